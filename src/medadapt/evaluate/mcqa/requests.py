"""Turn multiple-choice records into log-likelihood requests, tokenised exactly as lm-evaluation-harness does.

A request is one question: its context tokens and one continuation per choice. The context is tokenised
whole (few-shot block + question) and continuations as ``tokens(context + continuation)[len(context):]``, so
scores equal lm-eval's. ``shared`` marks how many leading context tokens every question of the subject has in
common (the description and the few-shot block: 70 of 260 tokens of a Persian exam question for SmolLM2
even zero-shot) — the scorer computes those once and reuses them through the KV cache.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.prompts import TARGET_DELIMITER, PromptSet, mcqa_prompt


@dataclass
class Request:
    question: int
    context: list[int]
    continuations: list[list[int]]
    shared: int = 0  # leading context tokens identical for every request with the same ``prefix_key``
    prefix_key: str = ""
    text: tuple[str, list[str]] = ("", [])  # the context and continuation strings the tokens came from


def fewshot_block(examples: list[MCQARecord], style: str, prompts: PromptSet | None = None) -> str:
    """The solved examples, each followed by a blank line, as lm-eval's ``fewshot_delimiter`` lays them out."""
    prompts = prompts or PromptSet()
    blocks = []
    for example in examples:
        context, continuations = mcqa_prompt(example, style, prompts)
        blocks.append(context[len(prompts.description(example)):] + continuations[example.answer] + "\n\n")
    return "".join(blocks)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def as_chat(tokenizer: Any, description: str, text: str, block: str) -> tuple[str, str]:
    """lm-eval's ``--apply_chat_template`` layout: the description as the system message, the examples and the
    question as one user message, then the assistant header; the continuation follows with no delimiter.
    Returns the rendered context and its shared part: up to the end of the few-shot ``block`` (the start of
    the user turn when there are no examples)."""
    system = [{"role": "system", "content": description}] if description else []  # as lm-eval: none when empty
    rendered = tokenizer.apply_chat_template([*system, {"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True)
    at = rendered.find(text)
    return rendered, rendered[: at + len(block)] if at >= 0 else ""


def build_requests(
    tokenizer: Any, records: list[MCQARecord], style: str = "letters", fewshot: dict[str, list[MCQARecord]] | None = None,
    chat: bool = False, prompts: PromptSet | None = None,
) -> list[Request]:
    """One request per record; ``fewshot`` maps a subject to its solved examples (the same for all its questions).

    ``chat``: render each prompt with the tokenizer's chat template (lm-eval's ``--apply_chat_template``); the
    rendered text carries its own special tokens, so none are added when tokenising it."""
    prompts = prompts or PromptSet()
    requests = []
    prefix_ids: dict[str, list[int]] = {}
    special = {"add_special_tokens": False} if chat else {}
    for q, record in enumerate(records):
        context, continuations = mcqa_prompt(record, style, prompts)
        description = prompts.description(record)
        key = f"{record.lang}/{record.subject}"
        examples = (fewshot or {}).get(record.subject, [])
        block = fewshot_block(examples, style, prompts) if examples else ""
        prefix = description + block
        context = description + block + context[len(description):]
        if chat:
            context, prefix = as_chat(tokenizer, description, context[len(description):], block)
            continuations = [c.removeprefix(TARGET_DELIMITER) for c in continuations]
        context_ids = tokenizer(context, **special)["input_ids"]
        conts = [tokenizer(context + c, **special)["input_ids"][len(context_ids):] for c in continuations]
        if not prefix:
            requests.append(Request(q, context_ids, conts, text=(context, continuations)))
            continue
        if key not in prefix_ids:
            prefix_ids[key] = tokenizer(prefix, **special)["input_ids"]
        # tokens at the prefix/question boundary may merge: share only what both tokenisations agree on,
        # and always leave at least one context token to compute per question
        shared = min(_common_prefix(prefix_ids[key], context_ids), len(context_ids) - 1)
        requests.append(Request(q, context_ids, conts, shared, key, (context, continuations)))
    return requests


def select_fewshot(pool: list[MCQARecord], k: int) -> dict[str, list[MCQARecord]]:
    """The first ``k`` single-answer records of each subject in ``pool``: fixed, so every question of a subject
    shares them (an example's continuation is its one option)."""
    by_subject: dict[str, list[MCQARecord]] = defaultdict(list)
    for record in pool:
        if record.answers is None and len(by_subject[record.subject]) < k:
            by_subject[record.subject].append(record)
    return dict(by_subject)
