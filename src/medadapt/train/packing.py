"""Stage-1 data: tokenise text records, join them with EOS and cut the stream into ``block_size`` blocks.

This is the standard "group texts" of causal-LM continued pretraining, with one difference: the tail that
does not fill a last block is kept as a shorter block rather than dropped, so every token of the corpus is
trained on exactly once per epoch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medadapt.errors import DataError


def token_stream(tokenizer: Any, texts: Iterable[str]) -> list[int]:
    """Every text's tokens followed by EOS, so the model learns where a document ends."""
    if tokenizer.eos_token_id is None:
        raise DataError("the tokenizer has no EOS token; cannot separate documents", field="tokenizer.eos_token")
    stream: list[int] = []
    for text in texts:
        stream.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        stream.append(tokenizer.eos_token_id)
    return stream


def pack_blocks(stream: list[int], block_size: int) -> list[list[int]]:
    """Consecutive ``block_size`` slices of ``stream``; the last one may be shorter (never empty)."""
    return [stream[start : start + block_size] for start in range(0, len(stream), block_size)]


def dev_block_count(blocks: int, dev_fraction: float) -> int:
    """How many of ``blocks`` :func:`split_blocks` holds out: a ``dev_fraction`` share, at least one when asked for
    any, none of a single block."""
    if dev_fraction == 0 or blocks < 2:
        return 0
    return max(1, round(blocks * dev_fraction))


def split_blocks(blocks: list[list[int]], dev_fraction: float, seed: int) -> tuple[list[list[int]], list[list[int]]]:
    """(train, dev): a seeded random ``dev_fraction`` of the blocks held out (at least one when asked for any)."""
    import random

    held_out = dev_block_count(len(blocks), dev_fraction)
    if not held_out:
        return blocks, []
    order = list(range(len(blocks)))
    random.Random(seed).shuffle(order)
    held = set(order[:held_out])
    return [b for i, b in enumerate(blocks) if i not in held], [b for i, b in enumerate(blocks) if i in held]
