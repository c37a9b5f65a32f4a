"""Multiple-choice scoring by log-likelihood of the answer continuations, as lm-evaluation-harness does it.

Each choice's score is the summed log-probability of its continuation (`` A``…) after the prompt. When every
continuation is a single token — the usual case for answer letters — all choices are read from one forward
pass over the prompt instead of one pass per choice. Sequences are right-padded and read only at real
positions, so scores do not depend on the batch size.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rich.progress import Progress

from medadapt.data.records import MCQARecord
from medadapt.evaluate.prompts import mcqa_prompt


@dataclass
class ScoringRow:
    """One forward pass: its tokens and, per choice, the (position, target token) pairs to sum."""

    question: int
    input_ids: list[int]
    targets: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def build_rows(
    tokenizer: Any, records: list[MCQARecord], style: str = "letters", share_prompt: bool = True
) -> list[ScoringRow]:
    """Forward passes to run; ``share_prompt=False`` forces one pass per choice (the reference method)."""
    rows = []
    for q, record in enumerate(records):
        context, continuations = mcqa_prompt(record, style)
        context_ids = tokenizer(context)["input_ids"]
        conts = [tokenizer(context + c)["input_ids"][len(context_ids):] for c in continuations]
        if share_prompt and all(len(c) == 1 for c in conts):
            last = len(context_ids) - 1
            rows.append(ScoringRow(q, context_ids, {i: [(last, c[0])] for i, c in enumerate(conts)}))
            continue
        for i, cont in enumerate(conts):
            ids = (context_ids + cont)[:-1]
            start = len(context_ids) - 1
            rows.append(ScoringRow(q, ids, {i: [(start + j, tok) for j, tok in enumerate(cont)]}))
    return rows


def score_rows(model: Any, tokenizer: Any, rows: list[ScoringRow], batch_size: int, label: str) -> dict[int, dict[int, float]]:
    """Log-likelihood per question and choice."""
    import torch

    scores: dict[int, dict[int, float]] = defaultdict(dict)
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i].input_ids))
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with Progress() as progress, torch.inference_mode():
        task = progress.add_task(label, total=len(rows))
        for start in range(0, len(order), batch_size):
            batch = [rows[i] for i in order[start : start + batch_size]]
            width = len(batch[0].input_ids)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for b, row in enumerate(batch):
                ids[b, : len(row.input_ids)] = torch.tensor(row.input_ids)
                mask[b, : len(row.input_ids)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            for b, row in enumerate(batch):
                for choice, targets in row.targets.items():
                    positions = torch.tensor([p for p, _ in targets], device=logits.device)
                    tokens = torch.tensor([t for _, t in targets], device=logits.device)
                    logprobs = torch.log_softmax(logits[b, positions], dim=-1)
                    scores[row.question][choice] = float(logprobs.gather(1, tokens[:, None]).sum())
            progress.advance(task, len(batch))
    return scores


def mean_stderr(values: list[float]) -> float:
    """Standard error of the mean (sample standard deviation / √n), as lm-evaluation-harness reports it."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def _accuracy(correct: list[float]) -> dict[str, float]:
    return {"acc": round(sum(correct) / len(correct), 4), "stderr": round(mean_stderr(correct), 4), "n": len(correct)}


def evaluate_mcqa(
    model: Any, tokenizer: Any, records: list[MCQARecord], batch_size: int, label: str, style: str = "letters"
) -> tuple[dict, list[dict]]:
    """Scores (overall, macro over subjects, by subject, by language) and per-question predictions.

    The prediction is the choice of highest log-likelihood (lm-eval's ``acc``); for ``cloze`` it is the highest
    log-likelihood per byte of the choice's text (``acc_norm``), so long options are not penalised.
    """
    scores = score_rows(model, tokenizer, build_rows(tokenizer, records, style), batch_size, label)
    predictions = []
    for q, record in enumerate(records):
        loglik = [scores[q][i] for i in range(len(record.choices))]
        _, continuations = mcqa_prompt(record, style)
        ranked = [ll / len(c.encode()) for ll, c in zip(loglik, continuations)] if style == "cloze" else loglik
        pred = max(range(len(ranked)), key=ranked.__getitem__)
        predictions.append({
            "id": record.id, "lang": record.lang, "subject": record.subject, "answer": record.answer,
            "pred": pred, "correct": pred == record.answer, "loglik": [round(x, 4) for x in loglik],
        })
    groups: dict[str, dict[str, list[float]]] = {"subject": defaultdict(list), "lang": defaultdict(list)}
    for p in predictions:
        groups["subject"][p["subject"]].append(float(p["correct"]))
        groups["lang"][p["lang"]].append(float(p["correct"]))
    by_subject = {k: _accuracy(v) for k, v in sorted(groups["subject"].items())}
    metrics = {
        **_accuracy([float(p["correct"]) for p in predictions]),
        "macro_acc": round(sum(s["acc"] for s in by_subject.values()) / len(by_subject), 4),
        "by_subject": by_subject,
        "by_lang": {k: _accuracy(v) for k, v in sorted(groups["lang"].items())},
    }
    return metrics, predictions
