"""Generative multiple choice: the model answers in a chat turn; its answer is parsed into an option.

Answers that name no option unambiguously are counted as unparsed (and wrong), never guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rich.progress import Progress

from medadapt.data.records import MCQARecord
from medadapt.evaluate.prompts import LETTERS, prompt_templates

WORD = re.compile(r"[\w\u0600-\u06FF]+")
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
    found = [i for i, c in enumerate(choices) if c.strip() and c.strip().casefold() in lowered]
    return found[0] if len(found) == 1 else None


def parse_choice(response: str, choices: list[str]) -> int | None:
    """The option a free-text answer names, or None when it names none or several."""
    text = response.strip()
    if not text:
        return None
    lowered = text.casefold()
    cue_ends = [lowered.rfind(c.casefold()) + len(c) for c in answer_forms()["cues"] if c.casefold() in lowered]
    candidates = [text[max(cue_ends):], text] if cue_ends else [text]
    for candidate in candidates:
        by_form = _option_by_form(candidate.strip(), len(choices))
        if by_form is not None:
            return by_form
    return _option_by_text(text, choices)


def question_message(record: MCQARecord) -> str:
    t = prompt_templates()[record.lang]
    lines = [t["question"].format(question=record.question.strip())]
    lines += [t["option"].format(letter=LETTERS[i], choice=c.strip()) for i, c in enumerate(record.choices)]
    return "\n".join(lines) + "\n\n" + t["instruction"]


def predict_generative(model: Any, tokenizer: Any, records: list[MCQARecord], batch_size: int, label: str) -> list[dict]:
    """Greedy answers to each question in the model's chat template, parsed into options."""
    import torch

    device = next(model.parameters()).device
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": question_message(r)}], tokenize=False,
                                             add_generation_prompt=True) for r in records]
    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(records)), key=lambda i: -len(encoded[i]))
    responses: dict[int, str] = {}
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with Progress() as progress, torch.inference_mode():
        task = progress.add_task(label, total=len(records))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(encoded[i]) for i in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for b, i in enumerate(batch):  # left padding: every row's answer starts at the same column
                ids[b, width - len(encoded[i]):] = torch.tensor(encoded[i])
                mask[b, width - len(encoded[i]):] = 1
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
                                 max_new_tokens=MAX_NEW_TOKENS, pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id)
            for b, i in enumerate(batch):
                responses[i] = tokenizer.decode(out[b, width:], skip_special_tokens=True)
            progress.advance(task, len(batch))
    predictions = []
    for i, record in enumerate(records):
        pred = parse_choice(responses[i], record.choices)
        predictions.append({
            "id": record.id, "lang": record.lang, "subject": record.subject, "answer": record.answer,
            "pred": -1 if pred is None else pred, "correct": pred == record.answer, "parsed": pred is not None,
            "response": responses[i],
        })
    return predictions
