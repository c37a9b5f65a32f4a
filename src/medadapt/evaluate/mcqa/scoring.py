"""Log-likelihood scoring of requests, computing only what the scores need.

Three things make it faster than one padded forward pass per (context, continuation) pair, with the same
numbers: (1) logits are computed only at the scored positions (the LM head is a large share of a small
model's compute); (2) a prefix shared by many requests (the subject's description and few-shot block) is run
once and reused through the KV cache, and so is each question's context across its choices, whose
continuations are then scored in length-sorted batched passes; (3) when every continuation is a single token
(answer letters), all choices are read from the one pass over the context. Batches are sorted by length and padded with explicit position ids and attention
masks, so no padding enters a real token's result and scores do not depend on the batch size.

Under a multi-process launch (``medadapt.runs.processes``) the batches are made as one process makes them and
dealt out whole, each process scoring its share (and the shared prefix of its batches itself): every batch is
the same computation as in one process, so the merged scores are the one process's, bit for bit.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import Any

from rich.progress import Progress

from medadapt.evaluate.mcqa.requests import Request
from medadapt.runs.processes import is_main, merged, shard

Scores = dict[int, dict[int, float]]


Batch = tuple[tuple, list[int], list[Request]]  # (prefix group, prefix tokens, requests)


def _batches(requests: list[Request], batch_size: int) -> list[Batch]:
    """The batches in the order one process scores them: per group of requests sharing a prefix, the contexts
    longest first, ``batch_size`` at a time."""
    key = lambda r: (r.prefix_key, tuple(r.context[: r.shared]))  # noqa: E731
    batches: list[Batch] = []
    for group_key, group in groupby(sorted(requests, key=key), key=key):
        ordered = sorted(group, key=lambda r: -len(r.context))
        batches += [(group_key, list(group_key[1]), ordered[start : start + batch_size])
                    for start in range(0, len(ordered), batch_size)]
    return batches


def _score_with_cache(model: Any, batches: list[Batch], batch_size: int, pad_id: int, scores: Scores,
                      advance) -> None:
    """Batches of requests sharing a prefix: the prefix once per group (reused through the KV cache), then
    each batch's contexts once, then every choice's continuation in batched passes over the cached contexts.

    Contexts are left-padded after the prefix and continuations right-padded, with explicit position ids, so
    every real token sees exactly the positions and tokens it would see alone.
    """
    import copy

    import torch
    from transformers import DynamicCache

    device = next(model.parameters()).device

    def forward(ids: Any, mask: Any, positions: Any, cache: Any, keep: int) -> Any:
        out = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                    past_key_values=cache, use_cache=True, logits_to_keep=keep)
        return torch.log_softmax(out.logits.float(), dim=-1)

    cached_group, prefix_cache = None, None
    for group_key, prefix, batch in batches:
        if group_key != cached_group:
            cached_group, prefix_cache = group_key, DynamicCache()
            if prefix:
                ids = torch.tensor([prefix])
                forward(ids, torch.ones_like(ids), torch.arange(len(prefix))[None], prefix_cache, keep=1)
        cache = copy.deepcopy(prefix_cache)
        if prefix:
            cache.batch_repeat_interleave(len(batch))
        suffixes = [r.context[len(prefix):] for r in batch]
        width = max(len(x) for x in suffixes)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), len(prefix) + width), dtype=torch.long)
        mask[:, : len(prefix)] = 1
        positions = torch.zeros((len(batch), width), dtype=torch.long)
        for b, suffix in enumerate(suffixes):
            ids[b, width - len(suffix):] = torch.tensor(suffix)
            mask[b, len(prefix) + width - len(suffix):] = 1
            positions[b, width - len(suffix):] = torch.arange(len(prefix), len(prefix) + len(suffix))
        last = forward(ids, mask, positions, cache, keep=1)[:, -1]
        for b, request in enumerate(batch):
            for choice, cont in enumerate(request.continuations):
                scores[request.question][choice] = float(last[b, cont[0]])
        _score_continuation_tails(forward, cache, batch, mask, pad_id, scores, batch_size)
        advance(len(batch))


def _rows_of(cache: Any, rows: Any) -> Any:
    """A new cache holding the given batch rows of ``cache`` (a row may repeat: one per choice)."""
    from transformers import DynamicCache

    return DynamicCache(ddp_cache_data=[(layer.keys[rows], layer.values[rows]) for layer in cache.layers])


def _score_continuation_tails(forward, cache, batch, context_mask, pad_id: int, scores: Scores,
                              rows_per_pass: int) -> None:
    """Tokens 2… of every continuation, over the cached contexts. The (question, choice) rows are sorted by
    continuation length and scored ``rows_per_pass`` at a time, each pass padded only to its own longest
    continuation: option texts differ a lot in length, and padding to the batch's longest wastes most of it."""
    import torch

    rows = sorted(((b, choice, cont) for b, request in enumerate(batch)
                   for choice, cont in enumerate(request.continuations) if len(cont) > 1), key=lambda r: -len(r[2]))
    context_width = context_mask.shape[1]
    for start in range(0, len(rows), rows_per_pass):
        part = rows[start : start + rows_per_pass]
        width = len(part[0][2]) - 1
        owners = torch.tensor([b for b, _, _ in part])
        ids = torch.full((len(part), width), pad_id, dtype=torch.long)
        mask = torch.cat([context_mask[owners], torch.zeros((len(part), width), dtype=torch.long)], 1)
        positions = context_mask[owners].sum(-1)[:, None] + torch.arange(width)[None]
        for row, (_, _, cont) in enumerate(part):
            ids[row, : len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
            mask[row, context_width : context_width + len(cont) - 1] = 1
        logprobs = forward(ids, mask, positions, _rows_of(cache, owners.to(cache.layers[0].keys.device)), keep=width)
        for row, (b, choice, cont) in enumerate(part):
            targets = torch.tensor(cont[1:], device=logprobs.device)
            picked = logprobs[row, : len(cont) - 1].gather(1, targets[:, None])
            scores[batch[b].question][choice] += float(picked.sum())


def score_requests(model: Any, tokenizer: Any, requests: list[Request], batch_size: int, label: str) -> Scores:
    """Log-likelihood per question and choice (in every process of a launch, each having scored a share)."""
    import torch

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    first_of: dict[tuple, Request] = {}  # a question asked twice (exams repeat some) is scored once
    repeats: list[tuple[Request, Request]] = []
    for request in requests:
        key = (tuple(request.context), tuple(map(tuple, request.continuations)))
        if key in first_of:
            repeats.append((request, first_of[key]))
        else:
            first_of[key] = request
    mine = shard(_batches(list(first_of.values()), batch_size))
    part: Scores = defaultdict(dict)
    with Progress(transient=False, disable=not is_main()) as progress, torch.inference_mode():
        task = progress.add_task(label, total=sum(len(batch) for _, _, batch in mine) + len(repeats))
        advance = lambda n: progress.advance(task, n)  # noqa: E731
        advance(len(repeats))
        _score_with_cache(model, mine, batch_size, pad_id, part, advance)
    scores: Scores = defaultdict(dict, merged(list(part.items())))
    for request, original in repeats:
        scores[request.question] = dict(scores[original.question])
    return scores
