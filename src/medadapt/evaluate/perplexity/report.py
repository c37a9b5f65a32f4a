"""The perplexity tables of the report's evaluation section, from each set's results.json: rows (overall, each
source, each language) × model columns of bits per byte, the paired comparisons with their intervals, and one
plot of every set's bits per byte per model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLOT = "bits-per-byte.png"


def perplexity_table(results: dict[str, Any]) -> dict[str, Any]:
    models = list(results["models"])
    per_model = [results["models"][m] for m in models]

    def cells(group: str | None, key: str | None) -> list[dict[str, Any] | None]:
        picked = [m if group is None else m[group].get(key) for m in per_model]
        return [{"bits_per_byte": f["bits_per_byte"], "byte_perplexity": f["byte_perplexity"],
                 "word_perplexity": f["word_perplexity"]} if f else None for f in picked]

    rows = [{"group": "overall", "n": per_model[0]["n"], "cells": cells(None, None)}]
    for group, prefix in (("by_source", "source"), ("by_lang", "language")):
        for key, figures in per_model[0][group].items():
            rows.append({"group": f"{prefix}: {key}", "n": figures["n"], "cells": cells(group, key)})
    return {"name": results["set"], "kind": results["kind"], "models": models, "rows": rows,
            "paired": results.get("paired", []), "documents": results["documents"], "rejected": results["rejected"]}


def plot_bits_per_byte(tables: list[dict[str, Any]], path: Path) -> None:
    """Overall bits per byte per set and model; the paired interval of the last model's difference is in the
    table (it is per document, not of these weighted figures)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(m for t in tables for m in t["models"]))
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=120)
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        points = [(s, t["rows"][0]["cells"][t["models"].index(model)]) for s, t in enumerate(tables)
                  if model in t["models"]]
        bars = ax.bar([s + i * width for s, _ in points], [c["bits_per_byte"] for _, c in points], width, label=model)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks([s + width * (len(models) - 1) / 2 for s in range(len(tables))])
    ax.set_xticklabels([f"{t['name']} ({t['kind']})" for t in tables], fontsize=8)
    ax.set_ylabel("bits per byte (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def perplexity_tables(out: Path) -> dict[str, Any] | None:
    """One table per ``<out>/perplexity/<set>/results.json`` and the plot ``<out>/bits-per-byte.png``; None when
    no perplexity evaluation ran."""
    tables = [perplexity_table(json.loads(path.read_text(encoding="utf-8")))
              for path in sorted((out / "perplexity").glob("*/results.json"))]
    if not tables:
        return None
    plot_bits_per_byte(tables, out / PLOT)
    return {"tables": tables, "plot": PLOT}
