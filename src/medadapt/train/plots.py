"""Loss curves (train per step, dev at each evaluation) as a PNG the report copies beside itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_loss_curves(rows: list[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Plot ``loss`` and ``eval_loss`` against ``step`` from log rows; nothing to plot → no file."""
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    dev = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    if not train:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=120)
    ax.plot(*zip(*train), marker=".", linewidth=0.8, label="train")
    if dev:
        ax.plot(*zip(*dev), "s--", color="black", label="dev")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
