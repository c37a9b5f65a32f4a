"""The reference method: one padded forward pass per (context, continuation), lm-evaluation-harness style.

Kept in the tests to check that medadapt's faster scorer returns the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.prompts import mcqa_prompt


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
    with torch.inference_mode():
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
    return scores




def score_requests_naively(model: Any, requests: list) -> dict[int, dict[int, float]]:
    """Every (context, continuation) pair in its own full forward pass, no cache, no batching."""
    import torch

    scores: dict[int, dict[int, float]] = defaultdict(dict)
    with torch.inference_mode():
        for request in requests:
            for choice, cont in enumerate(request.continuations):
                ids = torch.tensor([request.context + cont])
                logprobs = torch.log_softmax(model(ids).logits[0].float(), -1)
                start = len(request.context) - 1
                scores[request.question][choice] = float(sum(logprobs[start + j, t] for j, t in enumerate(cont)))
    return scores
