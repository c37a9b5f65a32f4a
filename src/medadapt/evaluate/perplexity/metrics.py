"""Perplexity figures as lm-eval aggregates them, and the paired comparison of two models on the same documents.

lm-eval's rolling metrics are weighted over documents, not averaged: ``bits_per_byte`` = −Σ log-likelihood /
Σ bytes / ln 2, ``byte_perplexity`` = exp(−Σ log-likelihood / Σ bytes), ``word_perplexity`` = exp(−Σ
log-likelihood / Σ words) (``api.metrics.weighted_perplexity``, ``bits_per_byte``). The comparison is per
document: each document's bits per byte under model A minus under model B, averaged, with a bootstrap 95 %
interval over documents (``evaluate.metrics``), and the relative change of the weighted figure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from medadapt.evaluate.metrics import mean_with_ci


def aggregate(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """bits_per_byte, byte_perplexity and word_perplexity over ``scores`` (rows with loglikelihood, bytes, words,
    tokens)."""
    loglikelihood = sum(s["loglikelihood"] for s in scores)
    total_bytes, words = sum(s["bytes"] for s in scores), sum(s["words"] for s in scores)
    return {"n": len(scores), "bits_per_byte": -loglikelihood / total_bytes / math.log(2),
            "byte_perplexity": math.exp(-loglikelihood / total_bytes), "word_perplexity": math.exp(-loglikelihood / words),
            "loglikelihood": loglikelihood, "tokens": sum(s["tokens"] for s in scores), "bytes": total_bytes,
            "words": words}


def summarise(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall, by source and by language."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {"source": defaultdict(list), "lang": defaultdict(list)}
    for row in scores:
        groups["source"][row["source"]].append(row)
        groups["lang"][row["lang"]].append(row)
    return {**aggregate(scores), **{f"by_{name}": {key: aggregate(rows) for key, rows in sorted(group.items())}
                                    for name, group in groups.items()}}


def document_bits_per_byte(row: dict[str, Any]) -> float:
    return -row["loglikelihood"] / row["bytes"] / math.log(2)


def paired(a: list[dict[str, Any]], b: list[dict[str, Any]], label_a: str, label_b: str) -> dict[str, Any] | None:
    """A − B on the documents both scored (by id): mean per-document bits-per-byte difference with its bootstrap
    interval, and the weighted bits per byte of each and their relative change; None when they share none."""
    by_id = {row["id"]: row for row in b}
    shared = [(row, by_id[row["id"]]) for row in a if row["id"] in by_id]
    if not shared:
        return None
    left, right = aggregate([x for x, _ in shared]), aggregate([y for _, y in shared])
    difference = mean_with_ci([document_bits_per_byte(x) - document_bits_per_byte(y) for x, y in shared])
    return {"a": label_a, "b": label_b, "n": len(shared), "bits_per_byte_a": round(left["bits_per_byte"], 6),
            "bits_per_byte_b": round(right["bits_per_byte"], 6),
            "relative_change": round(left["bits_per_byte"] / right["bits_per_byte"] - 1, 6),
            "mean_difference": difference["mean"], "ci95": difference["ci95"],
            "excludes_zero": difference["ci95"][0] > 0 or difference["ci95"][1] < 0}
