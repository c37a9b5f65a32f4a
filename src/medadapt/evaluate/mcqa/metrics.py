"""Multiple-choice scores: accuracy with its uncertainty (overall, macro, per subject and language), the pass
mark, and the exact McNemar test that compares two models on the same questions."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from medadapt.evaluate.metrics import bootstrap_ci95, mean_stderr


def accuracy(correct: list[float]) -> dict[str, Any]:
    low, high = bootstrap_ci95(correct)
    return {"acc": round(sum(correct) / len(correct), 4), "stderr": round(mean_stderr(correct), 4),
            "ci95": [round(low, 4), round(high, 4)], "n": len(correct)}


def summarise(predictions: list[dict[str, Any]], pass_mark: float | None = None) -> dict[str, Any]:
    """Overall (micro), macro over subjects, by subject and by language; pass/fail when a pass mark is set;
    single- and multi-answer questions apart when there are multi-answer ones."""
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
    if any("parsed" in p for p in predictions):
        metrics["unparsed"] = sum(1 for p in predictions if p.get("parsed") is False)
    multi = [float(p["correct"]) for p in predictions if p.get("multi_answer")]
    if multi:  # beside the single-answer questions' accuracy; the overall figures count both
        single = [float(p["correct"]) for p in predictions if not p.get("multi_answer")]
        metrics["single_answer"] = accuracy(single) if single else None
        metrics["multi_answer"] = {**accuracy(multi), "scoring": "exact match of the set of correct options"}
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


def paired_mcnemar(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`mcnemar` of two models' predictions (rows with ``id`` and ``correct``) on the questions both
    answered, matched by id (an imported column may hold another order or fewer questions); ``n``: how many."""
    right_b = {p["id"]: bool(p["correct"]) for p in b}
    shared = [(bool(p["correct"]), right_b[p["id"]]) for p in a if p["id"] in right_b]
    return {**mcnemar([x for x, _ in shared], [y for _, y in shared]), "n": len(shared)}
