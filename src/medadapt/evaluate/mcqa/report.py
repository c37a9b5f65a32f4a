"""The multiple-choice tables of the report's evaluation section, built from each table's results.json:
rows (overall, macro, each subject, each language) × model columns with intervals, the trained − base
delta, and an accuracy plot per table."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml


@cache
def style_notes() -> dict[str, str]:
    return yaml.safe_load(Path(__file__).with_name("style_notes.yaml").read_text(encoding="utf-8"))


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
        "style_note": style_notes().get(results.get("style", "letters"), ""),
        "num_fewshot": results.get("num_fewshot", 0), "pass_mark": results.get("pass_mark"),
        "passed": [m.get("passed") for m in per_model], "parameters": [m.get("parameters") for m in per_model], "unparsed": [m.get("unparsed") for m in per_model],
        "mcnemar": results.get("mcnemar_trained_vs_base"),
        "mcnemar_others": {label: test for label, test in (results.get("mcnemar_vs_base") or {}).items()
                           if label != "trained"},
    }


def plot_accuracy(table: dict[str, Any], path: Path) -> None:
    """Accuracy per subject for each model, with 95 % interval bars and the pass mark when there is one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in table["rows"] if r["group"].startswith("subject: ")] or table["rows"][:1]
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=120)
    width = 0.8 / len(table["models"])
    for m, model in enumerate(table["models"]):
        cells = [(i, r["cells"][m]) for i, r in enumerate(rows) if r["cells"][m]]
        accs = [c["acc"] for _, c in cells]
        errors = [[a - (c["ci95"] or [a, a])[0] for a, (_, c) in zip(accs, cells)],
                  [(c["ci95"] or [a, a])[1] - a for a, (_, c) in zip(accs, cells)]]
        ax.bar([i + m * width for i, _ in cells], accs, width, yerr=errors, capsize=2, label=model)
    if table["pass_mark"] is not None:
        ax.axhline(table["pass_mark"], color="red", linestyle="--", linewidth=1, label="pass mark")
    ax.set_xticks([i + width * (len(table["models"]) - 1) / 2 for i in range(len(rows))])
    ax.set_xticklabels([r["group"].removeprefix("subject: ") for r in rows], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(table["name"])
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def benchmark_tables(out: Path) -> list[dict[str, Any]]:
    """One table per ``<out>/<table>/results.json`` (benchmarks and imported lm-eval tasks, by folder name),
    each with its plot drawn as ``<out>/accuracy-<name>.png`` (named in the table's ``plot``)."""
    tables = []
    for results in sorted(out.glob("*/results.json")):
        table = accuracy_table(json.loads(results.read_text(encoding="utf-8")))
        table["plot"] = f"accuracy-{table['name']}.png"
        plot_accuracy(table, out / table["plot"])
        tables.append(table)
    return tables


def language_table(out: Path) -> dict[str, dict[str, Any]]:
    """The report's per-language table (``by_language``): for every table in ``<out>/*/results.json``, the
    questions in each language and each model's accuracy on them (None where a model has no figure)."""
    columns: list[str] = []
    cells: dict[str, dict[str, Any]] = {}
    for path in sorted(out.glob("*/results.json")):
        results = json.loads(path.read_text(encoding="utf-8"))
        name, models = results["benchmark"], results["models"]
        columns += [f"{name}: questions", *(f"{name}: {model}" for model in models)]
        for model, metrics in models.items():
            for lang, figures in metrics.get("by_lang", {}).items():
                row = cells.setdefault(lang, {})
                row[f"{name}: questions"] = figures["n"]
                row[f"{name}: {model}"] = figures["acc"]
    return {lang: {column: cells[lang].get(column) for column in columns} for lang in sorted(cells)}
