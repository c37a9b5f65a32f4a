"""The free-form part of the report's evaluation section: latency, pairwise-judge and K-QA figures as the
free-form run wrote them, and the win-rate plot when any judged pair has a scored question."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def plot_win_rates(pairs: dict[str, dict[str, Any]], path: Path) -> None:
    """Win / tie / loss shares per judged pair as stacked bars, with the win rate (tie = ½) and its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(pairs)
    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.6 * len(names)), dpi=120)
    left = [0.0] * len(names)
    for outcome, colour in (("win", "#2e7d32"), ("tie", "#9e9e9e"), ("loss", "#c62828")):
        shares = [pairs[n]["rates"][outcome] or 0.0 for n in names]
        ax.barh(names, shares, left=left, color=colour, label=outcome)
        left = [a + b for a, b in zip(left, shares)]
    for i, name in enumerate(names):
        rate, ci = pairs[name]["win_rate"], pairs[name]["win_rate_ci95"]
        if rate is not None:
            ax.errorbar(rate, i, xerr=[[rate - ci[0]], [ci[1] - rate]], fmt="D", color="black", capsize=3)
    ax.axvline(0.5, color="black", linewidth=0.6, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of judged questions (◆ win rate, tie = ½, with 95 % interval)")
    ax.legend(fontsize=7, ncol=3, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def freeform_figures(out: Path) -> dict[str, Any] | None:
    """``latency``, ``judge`` and ``kqa`` from ``<out>/freeform/`` (None where a check did not run) and
    ``win_rate_plot``, drawn as ``<out>/win-rates.png``; None when no free-form evaluation ran."""
    folder = out / "freeform"
    if not folder.is_dir():
        return None
    figures = {name: _json(folder / f"{name}.json") for name in ("latency", "judge", "kqa")}
    scored = {name: pair for name, pair in (figures["judge"] or {}).get("pairs", {}).items() if pair["scored"]}
    figures["win_rate_plot"] = None
    if scored:  # nothing to draw when every verdict was unreadable; the table says so
        figures["win_rate_plot"] = "win-rates.png"
        plot_win_rates(scored, out / figures["win_rate_plot"])
    return figures
