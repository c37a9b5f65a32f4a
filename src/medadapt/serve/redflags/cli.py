"""``medadapt safety``: measure the safety layer's red-flag detector on labelled messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from medadapt.serve.redflags.rules import DATA

safety_app = typer.Typer(help="The medical safety layer: measure its emergency detection.", no_args_is_help=True)
console = Console()


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


@safety_app.command("eval")
def eval_command(
    file: Annotated[Optional[Path], typer.Argument(help="A JSONL file of {lang, category (null: ordinary), text}; "
                                                   "default: the shipped development set.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Also write the figures, misses and false alarms as JSON.")] = None,
    safety_dir: Annotated[Optional[Path], typer.Option(help="A folder of <lang>.yaml safety packs that add or replace the shipped ones.")] = None,
    semantic: Annotated[bool, typer.Option("--semantic/--rules-only", help="With the semantic layer, or rules alone.")] = True,
) -> None:
    """Recall per category and language, false alarms, latency per message, and every miss."""
    from medadapt.serve.redflags.evaluate import evaluate
    from medadapt.serve.safety import SafetyLayer, load_packs

    path = file or DATA / "dev.jsonl"
    layer = SafetyLayer(load_packs(safety_dir), semantic=semantic)
    report = evaluate(layer, path)
    languages = list(report.by_language)

    table = Table(title=f"red-flag detection: {escape(str(path))} ({report.messages} messages)")
    for column in ("language", "emergencies", "found", "recall", "ordinary", "false alarms", "false-alarm rate"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, t in report.by_language.items():
        table.add_row(lang, str(t.emergencies), str(t.found), _percent(t.recall), str(t.ordinary),
                      str(t.false_alarms), _percent(t.false_alarm_rate))
    console.print(table)

    grid = Table(title="recall per category and language")
    grid.add_column("category")
    for lang in languages:
        grid.add_column(lang, justify="right")
    for category in sorted(report.by_category):
        cells = report.by_category[category]
        grid.add_row(category, *(f"{cells[lang].found}/{cells[lang].emergencies}" if lang in cells else "–"
                                 for lang in languages))
    console.print(grid)
    console.print(f"latency per message: median {report.latency_ms['median']} ms, p95 {report.latency_ms['p95']} ms, "
                  f"max {report.latency_ms['max']} ms")
    for miss in report.misses:
        console.print(f"[yellow]miss[/yellow] {miss['lang']} {miss['category']}: {escape(miss['text'])}"
                      f" (raised: {', '.join(miss['raised']) or 'nothing'})", highlight=False)
    for alarm in report.false_alarms:
        console.print(f"[red]false alarm[/red] {alarm['lang']}: {escape(alarm['text'])} → {'; '.join(alarm['evidence'])}",
                      highlight=False)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"wrote {escape(str(out))}")
