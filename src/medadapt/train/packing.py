"""Stage-1 data: tokenise text records, join them with EOS and cut the stream into ``block_size`` blocks.

This is the standard "group texts" of causal-LM continued pretraining, with one difference: the tail that
does not fill a last block is kept as a shorter block rather than dropped, so every token of the corpus is
trained on exactly once per epoch.

A model whose tokenizer starts every text with BOS (Llama, Gemma) has only ever seen text after BOS: Gemma-3
without it scores Persian medical text at 6.1 nats per token instead of 4.5 (MedMCQA-fa explanations in
256-token blocks), so blocks cut mid-document would teach the adapter to cope with a missing BOS rather than
the corpus, and the stage-1 model scored worse than the base on held-out documents (which evaluation, like
lm-eval, reads after BOS). For such a tokenizer each document starts with BOS, and so does each block (BOS,
then ``block_size - 1`` tokens of the stream). A tokenizer that adds no BOS (SmolLM2, GPT-2, Qwen) gets the
stream as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medadapt.errors import DataError


def leading_bos(tokenizer: Any) -> int | None:
    """The BOS id when the tokenizer puts it before every text it encodes (the model expects it), else None."""
    bos = tokenizer.bos_token_id
    return bos if bos is not None and tokenizer("a")["input_ids"][:1] == [bos] else None


def token_stream(tokenizer: Any, texts: Iterable[str]) -> list[int]:
    """Every text's tokens followed by EOS, so the model learns where a document ends; after the BOS the
    tokenizer starts a text with, when it does."""
    if tokenizer.eos_token_id is None:
        raise DataError("the tokenizer has no EOS token; cannot separate documents", field="tokenizer.eos_token")
    bos = leading_bos(tokenizer)
    stream: list[int] = []
    for text in texts:
        if bos is not None:
            stream.append(bos)
        stream.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        stream.append(tokenizer.eos_token_id)
    return stream


def pack_blocks(stream: list[int], block_size: int, bos: int | None = None) -> list[list[int]]:
    """Consecutive slices of ``stream``, each ``block_size`` long; the last one may be shorter (never empty).
    With ``bos``, every block starts with it: a slice that does not gets it put in front (and is one token
    shorter), so each stream token is still in exactly one block."""
    if bos is None:
        return [stream[start : start + block_size] for start in range(0, len(stream), block_size)]
    blocks, start = [], 0
    while start < len(stream):
        starts_with_bos = stream[start] == bos
        take = block_size if starts_with_bos else block_size - 1
        blocks.append(([] if starts_with_bos else [bos]) + stream[start : start + take])
        start += take
    return blocks


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
