"""Gather what each stage left in the run directory into one plain dict for the report templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.data.jsonl import iter_jsonl
from medadapt.runs.stage import RunDir


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


STYLE_NOTES = {
    "letters": "log-likelihood of the answer letter, options shown (lm-evaluation-harness MMLU layout)",
    "cloze": "log-likelihood per character of each option's own text (lm-eval's acc_norm)",
    "generate": "the model's free answer, parsed into an option (unparsed answers count as wrong)",
}


def accuracy_table(results: dict[str, Any]) -> dict[str, Any]:
    """Rows (overall, macro, each subject, each language) × model columns with intervals, for one benchmark."""
    models = list(results["models"])
    per_model = [results["models"][m] for m in models]

    def cell(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
        """None where a model has no figure for the group (an imported aggregate has no subjects)."""
        return {"acc": metrics["acc"], "ci95": metrics.get("ci95")} if metrics else None

    rows = [{"group": "overall (micro)", "n": results["n"], "cells": [cell(m) for m in per_model]},
            {"group": "macro over subjects", "n": results["n"],
             "cells": [{"acc": m["macro_acc"], "ci95": None} for m in per_model]}]
    for kind, prefix in (("by_subject", "subject"), ("by_lang", "language")):
        for key, value in per_model[0][kind].items():
            rows.append({"group": f"{prefix}: {key}", "n": value["n"],
                         "cells": [cell(m.get(kind, {}).get(key)) for m in per_model]})
    if {"base", "trained"} <= set(models):
        before, after = models.index("base"), models.index("trained")
        for row in rows:
            cells = row["cells"]
            row["delta"] = cells[after]["acc"] - cells[before]["acc"] if cells[before] and cells[after] else None
    return {
        "name": results["benchmark"], "models": models, "rows": rows, "style": results.get("style", "letters"),
        "contamination": results.get("contamination"), "pipelines": results.get("pipelines") or {},
        "source": results.get("source"),
        "style_note": STYLE_NOTES.get(results.get("style", "letters"), ""),
        "num_fewshot": results.get("num_fewshot", 0), "pass_mark": results.get("pass_mark"),
        "passed": [m.get("passed") for m in per_model], "unparsed": [m.get("unparsed") for m in per_model],
        "mcnemar": results.get("mcnemar_trained_vs_base"),
    }


def collect(run: RunDir, section_templates: set[str]) -> dict[str, Any]:
    """Context for the templates: each stage's ``stats.json`` under its name, plus train/evaluate extras.

    ``sections`` lists, in run order, the stages that have a report template; a stage joins the report by
    leaving ``stats.json`` (and PNG plots) in its folder and shipping ``templates/sections/<stage>.*.j2``.
    """
    manifest = _json(run.manifest_path) or {}
    # the report describes the stages before it; its own record is still "running" while it renders
    manifest.get("stages", {}).pop("report", None)
    context: dict[str, Any] = {"name": manifest.get("name", run.root.name), "manifest": manifest}
    stages = [name for name, record in manifest.get("stages", {}).items() if record.get("status") == "done"]
    context["sections"] = [name for name in stages if name in section_templates]
    context["stats"] = {name: _json(run.stage_dir(name) / "stats.json") for name in stages}
    context["plots"] = {name: sorted(p.name for p in run.stage_dir(name).glob("*.png")) for name in stages}
    context["data"] = context["stats"].get("data")
    train_dir = run.stage_dir("train")
    context["train"] = _json(train_dir / "summary.json")
    log = train_dir / "log.jsonl"
    rows = list(iter_jsonl(log)) if log.is_file() else []
    context["loss_curve"] = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    context["dev_loss"] = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    evaluate_dir = run.stage_dir("evaluate")
    context["benchmarks"] = [
        accuracy_table(_json(p)) for p in sorted(evaluate_dir.glob("*/results.json"))
    ] if evaluate_dir.is_dir() else []
    freeform = evaluate_dir / "freeform"
    context["freeform"] = {"latency": _json(freeform / "latency.json"), "judge": _json(freeform / "judge.json"),
                           "kqa": _json(freeform / "kqa.json")} if freeform.is_dir() else None
    return context
