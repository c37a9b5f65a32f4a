"""A small run directory as the stages leave it (manifest, train's summary and logs, evaluate's results and
free-form figures), for the tests of the report and of the files each stage leaves for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def metrics(acc: float, anatomy: float, passed: bool) -> dict[str, Any]:
    return {"acc": acc, "ci95": [acc - 0.1, acc + 0.1], "n": 4, "macro_acc": acc, "passed": passed,
            "by_subject": {"anatomy": {"acc": anatomy, "ci95": [0.0, 1.0], "n": 2},
                           "physiology": {"acc": 2 * acc - anatomy, "ci95": [0.0, 1.0], "n": 2}},
            "by_lang": {"en": {"acc": acc, "ci95": [0.0, 1.0], "n": 4}}}


def mcqa_results() -> dict[str, Any]:
    """A benchmark's results.json: base and trained on four questions, two subjects."""
    return {"benchmark": "tiny-mcqa", "style": "cloze", "n": 4, "num_fewshot": 0, "pass_mark": 0.5,
            "models": {"base": metrics(0.25, 0.5, False), "trained": metrics(0.75, 1.0, True)},
            "contamination": None, "mcnemar_trained_vs_base": {"only_a": 2, "only_b": 0, "p_value": 0.5}}


def judge_pair(scored: int) -> dict[str, Any]:
    rate = 0.75 if scored else None
    return {"questions": 2, "scored": scored, "wins": 1, "ties": 1, "losses": 0, "win_rate": rate,
            "win_rate_ci95": [0.5, 1.0] if scored else None,
            "rates": {"win": 0.5, "tie": 0.5, "loss": 0.0} if scored else {"win": None, "tie": None, "loss": None},
            "verdicts": {"sent": 4, "parsed": 2 * scored, "unparsable": 4 - 2 * scored, "failed": 0},
            "position_bias": {"first_shown_share": 0.5 if scored else None, "flip_rate": None}}


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")


def write_train(folder: Path, stage1: bool = True) -> dict[str, Any]:
    """train/: summary.json, log.jsonl and (with stage 1) stage1/log.jsonl; returns the summary."""
    summary = {"device": "cpu", "steps": 3, "train_examples": 5, "assistant_tokens": 40, "train_loss": 2.5,
               "dev_loss_before": 3.0, "dev_loss_after": 2.0, "trainable_parameters": 1000,
               "total_parameters": 10000, "seconds": 1.5, "tokens_per_second": 20.0, "merged": "merged"}
    write_json(folder / "summary.json", summary)
    rows = [{"step": 0, "eval_loss": 3.0}, {"step": 1, "loss": 2.9}, {"step": 2, "loss": 2.6}, {"step": 3, "loss": 2.4},
            {"step": 3, "eval_loss": 2.0}]
    (folder / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if stage1:
        (folder / "stage1").mkdir()
        (folder / "stage1" / "log.jsonl").write_text(json.dumps({"step": 1, "loss": 3.5}) + "\n", encoding="utf-8")
    return summary


def write_evaluate(folder: Path, scored: int = 1) -> None:
    """evaluate/: one benchmark's results.json and free-form latency + judge figures."""
    write_json(folder / "tiny-mcqa" / "results.json", mcqa_results())
    write_json(folder / "freeform" / "latency.json", {"trained": {
        "n": 2, "mean_ttft_s": 0.1, "median_ttft_s": 0.1, "tokens_per_s": 30.0, "mean_answer_tokens": 12,
        "mean_answer_words": 9, "mean_wall_s": 0.5}})
    write_json(folder / "freeform" / "judge.json", {"pairs": {"trained vs base": judge_pair(scored)},
                                                    "judge": {"model": "judge-model"}})


def write_manifest(root: Path, stages: dict[str, str]) -> None:
    """manifest.json naming each stage with its status (``done``, ``failed``, ``running``)."""
    write_json(root / "manifest.json", {"name": root.name, "recipe_hash": "ab" * 32, "stages": {
        name: {"status": status, "seconds": 1.0, "ended_at": None} for name, status in stages.items()}})
