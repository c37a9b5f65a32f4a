"""lm-evaluation-harness results in medadapt's results format, so they sit in the same tables and reports.

Teams already run lm-eval (MMed-IFT and BiMediX report through it); their numbers belong beside ours. lm-eval
writes ``results_<date>.json`` (metrics per task, keyed ``"acc,none"``, ``"acc_stderr,none"``…) and, with
``--log_samples``, ``samples_<task>_<date>.jsonl`` beside it (one line per question: its document and its
0/1 metrics). From the aggregate alone the interval is the normal approximation (acc ± 1.96 stderr, said so
in ``ci95_method``); with the samples, the figures are computed exactly as for medadapt's own runs: bootstrap
interval, per subject and language, and per-question predictions that ``medadapt eval compare`` can pair.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.records.jsonl import iter_jsonl
from medadapt.errors import DataError
from medadapt.evaluate.mcqa.metrics import summarise

METRICS = ("acc", "acc_norm")


def read_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"not a readable lm-eval results file ({exc})", file=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise DataError("no `results` object: not an lm-eval results_<date>.json", file=str(path), field="results")
    return data


def samples_file(results_path: Path, task: str) -> Path | None:
    """The samples lm-eval wrote in the same run: ``samples_<task>_<date>.jsonl`` beside ``results_<date>.json``."""
    date = results_path.stem.removeprefix("results_")
    candidate = results_path.with_name(f"samples_{task}_{date}.jsonl")
    return candidate if candidate.is_file() else None


def _predictions(path: Path, metric: str, label: str) -> list[dict[str, Any]]:
    rows = []
    for number, sample in enumerate(iter_jsonl(path), start=1):
        if metric not in sample:
            raise DataError(f"no `{metric}` in this sample (lm-eval --log_samples output?)", file=str(path),
                            row=number, field=metric)
        doc = sample.get("doc") or {}
        logliks = [float(r[0]) for r in sample.get("filtered_resps") or []]  # lm-eval writes them as strings
        target = sample.get("target")
        rows.append({"model": label, "id": str(doc.get("id", sample.get("doc_id", number - 1))),
                     "subject": doc.get("subject", "general"), "lang": doc.get("lang", "und"),
                     "gold": int(target) if str(target).isdigit() else target, "correct": bool(sample[metric]),
                     "pred": max(range(len(logliks)), key=logliks.__getitem__) if metric == "acc" and logliks else None})
    return rows


def import_task(results_path: Path, task: str, metric: str = "acc", label: str = "lm-eval",
                samples: Path | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(results.json content, predictions) for one task of an lm-eval results file."""
    data = read_results(results_path)
    if task not in data["results"]:
        raise DataError(f"task {task!r} not in this file (tasks: {', '.join(sorted(data['results']))})",
                        file=str(results_path), field="results")
    if metric not in METRICS:
        raise DataError(f"metric must be one of {', '.join(METRICS)}", field="metric")
    scores = data["results"][task]
    key = f"{metric},none"
    if key not in scores:
        raise DataError(f"no {key!r} for task {task!r}", file=str(results_path), field=f"results.{task}")
    samples = samples or samples_file(results_path, task)
    predictions = _predictions(samples, metric, label) if samples else []
    if predictions:
        metrics = {**summarise(predictions), "ci95_method": "bootstrap over lm-eval's logged samples"}
    else:
        acc, stderr = float(scores[key]), float(scores.get(f"{metric}_stderr,none") or 0.0)
        n = int(((data.get("n-samples") or {}).get(task) or {}).get("effective") or 0)
        metrics = {"acc": round(acc, 4), "stderr": round(stderr, 4), "n": n, "macro_acc": round(acc, 4),
                   "ci95": [round(max(0.0, acc - 1.96 * stderr), 4), round(min(1.0, acc + 1.96 * stderr), 4)],
                   "ci95_method": "normal approximation from lm-eval's stderr (no samples file)",
                   "by_subject": {}, "by_lang": {}}
    config = data.get("config") or {}
    results = {"benchmark": task, "style": f"lm-eval {metric}", "file": str(results_path), "n": metrics["n"],
               "num_fewshot": (data.get("n-shot") or {}).get(task, 0), "pass_mark": None,
               "model": config.get("model_args") or data.get("model_name"), "source": "lm-evaluation-harness",
               "lm_eval_version": data.get("lm_eval_version") or (data.get("versions") or {}).get(task),
               "models": {label: metrics}}
    return results, predictions
