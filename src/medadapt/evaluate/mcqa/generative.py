"""Generative multiple choice: the model answers in a chat turn; its answer is parsed into an option.

Answers that name no option unambiguously are counted as unparsed (and wrong), never guessed. Answer, cues and
options are compared in the text layer's ``KEYBOARD`` fold, so a Persian answer typed with Arabic ي/ك still
names its option.

Questions with several correct options (CMB's 多项选择题) are always answered this way, in every style, as
CMB's own evaluation and OpenCompass's CMB task do (lm-eval has no multi-answer multiple-choice): the option
letters of the answer's first line are its set of options, scored by exact match with the correct set.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rich.progress import Progress

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.prompts import LETTERS, PromptSet
from medadapt.runs.processes import is_main, merged, shard
from medadapt.text.fold import KEYBOARD, fold

WORD = re.compile(r"[\w\u0600-\u06FF]+")
# a run of option letters standing alone in Latin text ("ACD", "A, C", "答案：AC")
LETTER_RUN = re.compile(r"(?<![A-Za-z])([A-J](?:[\s,、，/和及]*[A-J])*)(?![A-Za-z])")
MAX_NEW_TOKENS = 24


@lru_cache(maxsize=1)
def answer_forms() -> dict[str, Any]:
    return yaml.safe_load(Path(__file__).with_name("answer_forms.yaml").read_text(encoding="utf-8"))


def _option_by_form(text: str, n_choices: int) -> int | None:
    forms = {form: i for i, aliases in enumerate(answer_forms()["options"][:n_choices]) for form in aliases}
    lower = re.search(r"(?:^|[\s(\[])([a-e])(?:[).:\]]|$)", text)
    for word in WORD.findall(text):
        if word in forms:
            return forms[word]
    if lower and ord(lower.group(1)) - ord("a") < n_choices:
        return ord(lower.group(1)) - ord("a")
    return None


def _option_by_text(text: str, choices: list[str]) -> int | None:
    lowered = text.casefold()
    found = [i for i, c in enumerate(choices) if c.strip() and fold(c.strip(), KEYBOARD).casefold() in lowered]
    return found[0] if len(found) == 1 else None


def parse_choice(response: str, choices: list[str]) -> int | None:
    """The option a free-text answer names, or None when it names none or several."""
    text = fold(response.strip(), KEYBOARD)
    if not text:
        return None
    lowered = text.casefold()
    cues = [fold(c, KEYBOARD).casefold() for c in answer_forms()["cues"]]
    cue_ends = [lowered.rfind(c) + len(c) for c in cues if c in lowered]
    candidates = [text[max(cue_ends):], text] if cue_ends else [text]
    for candidate in candidates:
        by_form = _option_by_form(candidate.strip(), len(choices))
        if by_form is not None:
            return by_form
    return _option_by_text(text, choices)


def parse_letters(response: str, n_choices: int) -> list[int] | None:
    """The options a multi-answer response names: the option letters on its first non-empty line (full-width
    letters folded), ascending; None when it names none or a letter past the options."""
    lines = [line for line in fold(response, KEYBOARD).splitlines() if line.strip()]
    if not lines:
        return None
    runs = LETTER_RUN.findall(unicodedata.normalize("NFKC", lines[0]))
    letters = {ch for run in runs for ch in run if ch in LETTERS}
    if not letters or any(LETTERS.index(ch) >= n_choices for ch in letters):
        return None
    return sorted(LETTERS.index(ch) for ch in letters)


def question_message(record: MCQARecord, prompts: PromptSet | None = None) -> str:
    prompts = prompts or PromptSet()
    t = prompts.template(record)
    lines = [t["question"].format(question=record.question.strip())]
    lines += [t["option"].format(letter=LETTERS[i], choice=c.strip()) for i, c in enumerate(record.choices)]
    return "\n".join(lines) + "\n\n" + prompts.instruction(record)


def generate_texts(model: Any, tokenizer: Any, prompts: list[str], batch_size: int, label: str,
                   add_special_tokens: bool = False) -> list[str]:
    """Greedy continuations of ``prompts`` (rendered text), batched longest first with left padding. Under a
    multi-process launch each process generates a share of the batches (the batches one process makes, so
    the answers are its answers) and every process gets all of them."""
    import torch

    device = next(model.parameters()).device
    encoded = [tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"] for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    mine = shard([order[start : start + batch_size] for start in range(0, len(order), batch_size)])
    answered: list[tuple[int, str]] = []
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with Progress(disable=not is_main()) as progress, torch.inference_mode():
        task = progress.add_task(label, total=sum(map(len, mine)))
        for batch in mine:
            width = max(len(encoded[i]) for i in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for b, i in enumerate(batch):  # left padding: every row's answer starts at the same column
                ids[b, width - len(encoded[i]):] = torch.tensor(encoded[i])
                mask[b, width - len(encoded[i]):] = 1
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
                                 max_new_tokens=MAX_NEW_TOKENS, pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id)
            answered += [(i, tokenizer.decode(out[b, width:], skip_special_tokens=True)) for b, i in enumerate(batch)]
            progress.advance(task, len(batch))
    responses = dict(merged(answered))
    return [responses[i] for i in range(len(prompts))]


def multi_answer_prediction(record: MCQARecord, response: str) -> dict[str, Any]:
    """A multi-answer question's row: the correct and the named option sets, right only when they are equal."""
    pred = parse_letters(response, len(record.choices))
    return {"id": record.id, "lang": record.lang, "subject": record.subject, "answer": record.answers,
            "pred": pred or [], "correct": pred == record.answers, "parsed": pred is not None, "multi_answer": True,
            "response": response}


def predict_generative(model: Any, tokenizer: Any, records: list[MCQARecord], batch_size: int, label: str,
                       prompts: PromptSet | None = None) -> list[dict]:
    """Greedy answers to each question in the model's chat template, parsed into options."""
    chats = [tokenizer.apply_chat_template([{"role": "user", "content": question_message(r, prompts)}],
                                           tokenize=False, add_generation_prompt=True) for r in records]
    responses = generate_texts(model, tokenizer, chats, batch_size, label)
    predictions = []
    for record, response in zip(records, responses):
        if record.answers:
            predictions.append(multi_answer_prediction(record, response))
            continue
        pred = parse_choice(response, record.choices)
        predictions.append({
            "id": record.id, "lang": record.lang, "subject": record.subject, "answer": record.answer,
            "pred": -1 if pred is None else pred, "correct": pred == record.answer, "parsed": pred is not None,
            "response": response,
        })
    return predictions
