"""Exact and near-duplicate detection.

Exact: a 128-bit xxHash of the canonical text. Near: MinHash signatures (rensa, a Rust implementation) of
n-grams of each text's language's tokens (words; characters in Chinese and Japanese; words without
particles in Korean: :func:`medadapt.text.segment.ngram_tokens`) in an LSH index; a candidate counts only
when the signatures' estimated Jaccard similarity reaches the threshold, so LSH's false positives never
remove a document. The first document of a cluster
(in input order) is kept; each later one names the kept document as its cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash
from rensa import RMinHash, RMinHashLSH

from medadapt.text.segment import ngram_tokens, ngrams, scaled


def canonical(text: str) -> str:
    """Case and spacing do not make two texts different."""
    return " ".join(text.casefold().split())


def exact_key(text: str) -> bytes:
    return xxhash.xxh3_128_digest(canonical(text).encode("utf-8"))


def shingles(text: str, n: int, lang: str | None = None) -> list[str]:
    """N-grams of the canonical text's tokens; a text shorter than ``n`` is one shingle. ``n`` counts words
    as the recipe gives it, in ``lang``'s own n-gram tokens (:func:`medadapt.text.segment.scaled`)."""
    tokens, n = ngram_tokens(canonical(text), lang), scaled(n, lang, "ngram")
    if len(tokens) <= n:
        return [" ".join(tokens)]
    return [" ".join(gram) for gram in ngrams(tokens, n)]


def lsh_bands(threshold: float, num_perm: int, recall: float = 0.95) -> int:
    """The fewest bands (so the fewest false candidates) that still catch a pair at ``threshold`` with
    probability ``recall``: candidates are verified afterwards, so recall is what matters here."""
    for bands in (b for b in range(1, num_perm + 1) if num_perm % b == 0):
        rows = num_perm // bands
        if 1 - (1 - threshold**rows) ** bands >= recall:
            return bands
    return num_perm


@dataclass(frozen=True)
class Match:
    """Document ``index`` duplicates the kept document ``kept`` (an index into the same sequence)."""

    index: int
    kept: int
    similarity: float


def near_duplicates(
    texts: Sequence[str], threshold: float = 0.8, ngram: int = 5, num_perm: int = 128, seed: int = 0,
    langs: Sequence[str | None] | None = None,
) -> list[Match]:
    """For each text similar to an earlier one, the earliest kept text of its cluster (``langs``: each
    text's language, for its words)."""
    langs = langs if langs is not None else [None] * len(texts)
    minhashes = [_minhash(shingles(t, ngram, lang), num_perm, seed) for t, lang in zip(texts, langs)]
    signatures = np.array([m.digest() for m in minhashes], dtype=np.uint32).reshape(len(texts), num_perm)
    lsh = RMinHashLSH(threshold, num_perm, lsh_bands(threshold, num_perm))
    lsh.insert_many(minhashes)
    return _greedy_clusters(signatures, lsh.query_all(minhashes), threshold)


def _minhash(tokens: list[str], num_perm: int, seed: int) -> RMinHash:
    minhash = RMinHash(num_perm, seed)
    minhash.update(tokens)
    return minhash


def _greedy_clusters(signatures: np.ndarray, candidates: list[list[int]], threshold: float) -> list[Match]:
    kept_of: dict[int, int] = {}
    matches = []
    for index, keys in enumerate(candidates):
        earlier = sorted(k for k in keys if k < index)
        if not earlier:
            continue
        similarity = (signatures[earlier] == signatures[index]).mean(axis=1)
        similar = [k for k, s in zip(earlier, similarity) if s >= threshold]
        if similar:
            first = similar[0]
            kept = kept_of.get(first, first)
            kept_of[index] = kept
            matches.append(Match(index, kept, float(similarity[earlier.index(first)])))
    return matches
