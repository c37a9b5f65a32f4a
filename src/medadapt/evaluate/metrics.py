"""Uncertainty of a mean, shared by every kind of evaluation: standard error and a seeded bootstrap 95 % interval."""

from __future__ import annotations

import math
import random
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
