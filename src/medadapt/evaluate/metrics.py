"""Scores with their uncertainty: accuracy, standard error, bootstrap 95 % interval, pass mark, McNemar."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

BOOTSTRAP_SAMPLES = 1000


def mean_stderr(values: list[float]) -> float:
    """Standard error of the mean (sample standard deviation / √n), as lm-evaluation-harness reports it."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def bootstrap_ci95(values: list[float], seed: int = 0, samples: int = BOOTSTRAP_SAMPLES) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; seeded, so a report is reproducible."""
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(samples))
    return means[int(0.025 * samples)], means[min(samples - 1, int(0.975 * samples))]


def mean_with_ci(values: list[float]) -> dict[str, Any]:
    """Mean, bootstrap 95 % interval and n; all None (n 0) for no values."""
    if not values:
        return {"mean": None, "ci95": None, "n": 0}
    low, high = bootstrap_ci95(values)
    return {"mean": round(sum(values) / len(values), 4), "ci95": [round(low, 4), round(high, 4)], "n": len(values)}


def accuracy(correct: list[float]) -> dict[str, Any]:
    low, high = bootstrap_ci95(correct)
    return {"acc": round(sum(correct) / len(correct), 4), "stderr": round(mean_stderr(correct), 4),
            "ci95": [round(low, 4), round(high, 4)], "n": len(correct)}


def summarise(predictions: list[dict[str, Any]], pass_mark: float | None = None) -> dict[str, Any]:
    """Overall (micro), macro over subjects, by subject and by language; pass/fail when a pass mark is set."""
    groups: dict[str, dict[str, list[float]]] = {"subject": defaultdict(list), "lang": defaultdict(list)}
    for p in predictions:
        groups["subject"][p["subject"]].append(float(p["correct"]))
        groups["lang"][p["lang"]].append(float(p["correct"]))
    by_subject = {k: accuracy(v) for k, v in sorted(groups["subject"].items())}
    metrics = {
        **accuracy([float(p["correct"]) for p in predictions]),
        "macro_acc": round(sum(s["acc"] for s in by_subject.values()) / len(by_subject), 4),
        "by_subject": by_subject,
        "by_lang": {k: accuracy(v) for k, v in sorted(groups["lang"].items())},
    }
    if "parsed" in predictions[0]:
        metrics["unparsed"] = sum(1 for p in predictions if not p["parsed"])
    if pass_mark is not None:
        metrics["pass_mark"] = pass_mark
        metrics["passed"] = metrics["acc"] >= pass_mark
    return metrics


def mcnemar(a: list[bool], b: list[bool]) -> dict[str, float]:
    """Exact McNemar test on paired outcomes: is one model right where the other is wrong more than chance?"""
    only_a = sum(1 for x, y in zip(a, b) if x and not y)
    only_b = sum(1 for x, y in zip(a, b) if y and not x)
    n = only_a + only_b
    if n == 0:
        return {"only_a": 0, "only_b": 0, "p_value": 1.0}
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2**n
    return {"only_a": only_a, "only_b": only_b, "p_value": min(1.0, 2 * tail)}
