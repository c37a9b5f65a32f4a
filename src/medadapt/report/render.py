"""Write ``report/index.html``, ``report/report.md`` and the PNG plots from the collected context."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over up to ``window`` values: per-step loss on batches of 2 is too noisy to read."""
    return [sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1])
            for i in range(len(values))]


def plot_loss(points: list[tuple[int, float]], dev: list[tuple[int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses = [s for s, _ in points], [v for _, v in points]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=120)
    ax.plot(steps, losses, marker=".", linewidth=0.8, alpha=0.4, label="train (per step)")
    window = max(1, len(points) // 10)
    ax.plot(steps, moving_average(losses, window), linewidth=2, label=f"train (mean of {window})")
    if dev:
        ax.plot([s for s, _ in dev], [v for _, v in dev], "s--", color="black", label="dev")
    ax.legend(fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (assistant tokens)")
    ax.set_title("Stage 2 SFT")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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


def section_templates() -> set[str]:
    """Stages that ship a report section (``templates/sections/<stage>.html.j2``)."""
    return {p.name.removesuffix(".html.j2") for p in (TEMPLATES / "sections").glob("*.html.j2")}


def render_report(context: dict[str, Any], out: Path, stage_dirs: dict[str, Path] | None = None) -> list[Path]:
    """Render the plots and both documents into ``out``; return the files written.

    PNG plots a stage left in its own folder are copied beside the report as ``<stage>-<name>.png``.
    """
    written = []
    for stage, names in context.get("plots", {}).items():
        for name in names:
            target = out / f"{stage}-{name}"
            shutil.copyfile((stage_dirs or {})[stage] / name, target)
            written.append(target)
    if context["loss_curve"]:
        plot_loss(context["loss_curve"], context["dev_loss"], out / "loss.png")
        context["loss_plot"] = "loss.png"
        written.append(out / "loss.png")
    for table in context["benchmarks"]:
        name = f"accuracy-{table['name']}.png"
        plot_accuracy(table, out / name)
        table["plot"] = name
        written.append(out / name)
    judge = (context.get("freeform") or {}).get("judge")
    scored = {name: pair for name, pair in (judge or {}).get("pairs", {}).items() if pair["scored"]}
    if scored:  # nothing to draw when every verdict was unreadable; the table says so
        plot_win_rates(scored, out / "win-rates.png")
        context["win_rate_plot"] = "win-rates.png"
        written.append(out / "win-rates.png")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    for template, filename in (("index.html.j2", "index.html"), ("report.md.j2", "report.md")):
        (out / filename).write_text(env.get_template(template).render(**context), encoding="utf-8")
        written.append(out / filename)
    return written
