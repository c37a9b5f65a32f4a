"""Canonical records → the formats other tools read: Alpaca and ShareGPT JSON with a LLaMA-Factory
``dataset_info.json``, OpenAI chat JSONL, Hugging Face ``datasets`` (``save_to_disk``) and an
lm-evaluation-harness task YAML + data file for a multiple-choice set.

Chat exports keep ``id``, ``source`` and ``lang`` beside the conversation (LLaMA-Factory ignores columns it
is not told about), so importing an export with the matching shipped mapping gives the same records back.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from medadapt.format.formatting import LETTERS, instruction_prompts
from medadapt.records.jsonl import write_json, write_jsonl
from medadapt.records.kinds import ChatRecord, MCQARecord, Record
from medadapt.records.store import arrow_problem

SHAREGPT_ROLES = {"user": "human", "assistant": "gpt"}


def _identity(chat: ChatRecord) -> dict[str, str]:
    return {"id": chat.id, "source": chat.source, "lang": chat.lang}


def _exchanges(chat: ChatRecord) -> tuple[str, list[tuple[str, str]]]:
    """The system prompt and the (user, assistant) pairs; ``ValueError`` unless turns alternate and end
    with the assistant (what the Alpaca layout can hold)."""
    messages = chat.messages
    system = messages[0].content if messages[0].role == "system" else ""
    turns = messages[1:] if system else messages
    roles = [m.role for m in turns]
    if len(turns) % 2 or roles != ["user", "assistant"] * (len(turns) // 2):
        raise ValueError(f"turns {'/'.join(roles)} do not alternate user/assistant ending with the assistant")
    return system, [(turns[i].content, turns[i + 1].content) for i in range(0, len(turns), 2)]


def chat_to_alpaca(chat: ChatRecord) -> dict[str, Any]:
    system, pairs = _exchanges(chat)
    (instruction, output) = pairs[-1]
    return {**_identity(chat), "instruction": instruction, "input": "", "output": output, "system": system,
            "history": [list(pair) for pair in pairs[:-1]]}


def chat_to_sharegpt(chat: ChatRecord) -> dict[str, Any]:
    system = chat.messages[0].content if chat.messages[0].role == "system" else ""
    turns = [m for m in chat.messages if m.role != "system"]
    if len(turns) != len(chat.messages) - (1 if system else 0):
        raise ValueError("a system message after the first turn has no place in the ShareGPT layout")
    return {**_identity(chat), "conversations": [{"from": SHAREGPT_ROLES[m.role], "value": m.content} for m in turns],
            "system": system}


def chat_to_openai(chat: ChatRecord) -> dict[str, Any]:
    return {**_identity(chat), "messages": [m.model_dump() for m in chat.messages]}


DATASET_INFO = {
    "alpaca": {"columns": {"prompt": "instruction", "query": "input", "response": "output", "system": "system",
                           "history": "history"}},
    "sharegpt": {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system"},
                 "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}},
}


def write_llamafactory(rows: list[dict[str, Any]], path: Path, layout: str) -> Path:
    """``path`` (a JSON list) and an entry named after it in ``dataset_info.json`` beside it (merged)."""
    write_json(path, rows, indent=1)
    info_path = path.with_name("dataset_info.json")
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    info[path.stem] = {"file_name": path.name, **DATASET_INFO[layout]}
    write_json(info_path, info)
    return info_path


def write_hf_dataset(records: list[Record], folder: Path) -> None:
    """A ``datasets`` folder (``save_to_disk``); read it back with ``datasets.load_from_disk``."""
    import datasets
    import pyarrow as pa

    rows = [r.model_dump(mode="json", exclude_none=True) for r in records]
    try:
        dataset = datasets.Dataset.from_list(rows)
    except (pa.ArrowException, OverflowError) as exc:
        raise arrow_problem(rows, folder, exc) from None
    # datasets' own progress bar would print before a conversion's one-line error (e.g. 0 rows kept)
    shown = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        dataset.save_to_disk(str(folder))
    finally:
        if shown:
            datasets.enable_progress_bars()


def lm_eval_task(records: list[MCQARecord], task: str, data_file: Path) -> dict[str, Any]:
    """An lm-evaluation-harness task in MMLU's layout (options lettered A…, scored by log-likelihood of the
    letter), in the set's language, reading ``data_file`` (mcqa JSONL: question, choices, answer)."""
    lang = Counter(r.lang for r in records).most_common(1)[0][0]
    subject = Counter(r.subject for r in records).most_common(1)[0][0].replace("_", " ")
    prompts = instruction_prompts().get(lang, instruction_prompts()["en"])
    width = max(len(r.choices) for r in records)
    return {
        "task": task,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file.resolve())}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "description": prompts["eval_description"].format(subject=subject) + "\n\n",
        "doc_to_text": ("{{question.strip()}}\n{% for choice in choices %}{{ '" + LETTERS[:width] + "'[loop.index0] }}. "
                        "{{ choice }}\n{% endfor %}" + prompts["eval_answer_cue"]),
        "doc_to_choice": "{{ " + repr(list(LETTERS[:width])) + "[:choices|length] }}",
        "doc_to_target": "answer",
        "target_delimiter": " ",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                        {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0, "language": lang, "made_by": "medadapt data convert"},
    }


def write_lm_eval(records: list[MCQARecord], yaml_path: Path) -> Path:
    """``<task>.yaml`` and its data ``<task>.jsonl`` beside it; the task is named after the file."""
    data_file = yaml_path.with_suffix(".jsonl")
    write_jsonl(data_file, records)
    task = lm_eval_task(records, yaml_path.stem, data_file)
    yaml_path.write_text(yaml.safe_dump(task, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    return data_file
