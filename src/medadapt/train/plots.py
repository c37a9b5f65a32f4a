"""The one loss plot (train per step, its trailing mean, dev at each evaluation) as a PNG that the report
copies beside itself; stage 1 and stage 2 both draw theirs here."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over up to ``window`` values: per-step loss on batches of 2 is too noisy to read."""
    return [sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1])
            for i in range(len(values))]


def plot_loss_curves(rows: list[dict[str, Any]], path: Path, title: str, ylabel: str) -> Path | None:
    """Plot ``loss`` (and its trailing mean over a tenth of the steps) and ``eval_loss`` against ``step``
    from log rows; nothing to plot → no file."""
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    dev = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    if not train:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses = [s for s, _ in train], [v for _, v in train]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=120)
    ax.plot(steps, losses, marker=".", linewidth=0.8, alpha=0.4, label="train (per step)")
    window = max(1, len(train) // 10)
    ax.plot(steps, moving_average(losses, window), linewidth=2, label=f"train (mean of {window})")
    if dev:
        ax.plot([s for s, _ in dev], [v for _, v in dev], "s--", color="black", label="dev")
    ax.legend(fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
