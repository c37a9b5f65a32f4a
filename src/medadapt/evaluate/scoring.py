"""Log-likelihood scoring of requests, computing only what the scores need.

Three things make it faster than one padded forward pass per (context, continuation) pair, with the same
numbers: (1) logits are computed only at the scored positions (the LM head is a large share of a small
model's compute); (2) a prefix shared by many requests (the few-shot block) is run once and reused through
the KV cache, and so is each question's context across its choices; (3) when every continuation is a single
token, all choices are read from one pass over the context, and such requests are batched by length with
left padding and explicit position ids, so no padding is computed into a real token's result.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import Any

from rich.progress import Progress

from medadapt.evaluate.requests import Request

Scores = dict[int, dict[int, float]]


def _single_token(request: Request) -> bool:
    return all(len(c) == 1 for c in request.continuations)


def _score_single_token_batched(model: Any, requests: list[Request], batch_size: int, pad_id: int,
                                scores: Scores, advance) -> None:
    import torch

    device = next(model.parameters()).device
    ordered = sorted(requests, key=lambda r: -len(r.context))
    for start in range(0, len(ordered), batch_size):
        batch = ordered[start : start + batch_size]
        width = len(batch[0].context)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for b, request in enumerate(batch):
            ids[b, width - len(request.context):] = torch.tensor(request.context)
            mask[b, width - len(request.context):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                       logits_to_keep=1).logits[:, -1].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        for b, request in enumerate(batch):
            for choice, cont in enumerate(request.continuations):
                scores[request.question][choice] = float(logprobs[b, cont[0]])
        advance(len(batch))


def _truncate(cache: Any, length: int) -> None:
    """Drop cached positions beyond ``length`` (the cache's ``crop`` takes how many to remove, as a negative)."""
    extra = cache.get_seq_length() - length
    if extra > 0:
        cache.crop(-extra)


def _score_with_cache(model: Any, requests: list[Request], scores: Scores, advance) -> None:
    """Per group of requests sharing a prefix: the prefix once, then each context once, then each choice."""
    import torch
    from transformers import DynamicCache

    device = next(model.parameters()).device

    def forward(tokens: list[int], cache: Any, keep: int) -> Any:
        ids = torch.tensor([tokens], device=device)
        out = model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=keep)
        return torch.log_softmax(out.logits[0].float(), dim=-1)

    key = lambda r: (r.prefix_key, tuple(r.context[: r.shared]))  # noqa: E731
    for (_, prefix), group in groupby(sorted(requests, key=key), key=key):
        cache = DynamicCache()
        if prefix:
            forward(list(prefix), cache, keep=1)
        for request in group:
            last = forward(request.context[len(prefix):], cache, keep=1)[-1]
            context_length = cache.get_seq_length()
            for choice, cont in enumerate(request.continuations):
                total = float(last[cont[0]])
                if len(cont) > 1:
                    rest = forward(cont[:-1], cache, keep=len(cont) - 1)
                    total += float(rest.gather(1, torch.tensor(cont[1:], device=rest.device)[:, None]).sum())
                    _truncate(cache, context_length)
                scores[request.question][choice] = total
            _truncate(cache, len(prefix))
            advance(1)


def score_requests(model: Any, tokenizer: Any, requests: list[Request], batch_size: int, label: str) -> Scores:
    """Log-likelihood per question and choice."""
    import torch

    scores: Scores = defaultdict(dict)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    fast = [r for r in requests if _single_token(r) and not r.shared]
    cached = [r for r in requests if not (_single_token(r) and not r.shared)]
    with Progress(transient=False) as progress, torch.inference_mode():
        task = progress.add_task(label, total=len(requests))
        advance = lambda n: progress.advance(task, n)  # noqa: E731
        if fast:
            _score_single_token_batched(model, fast, batch_size, pad_id, scores, advance)
        if cached:
            _score_with_cache(model, cached, scores, advance)
    return scores
