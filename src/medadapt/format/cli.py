"""``medadapt data …``: inspect a data file, convert between formats, list the shipped mappings.

Only typer and rich are imported here; the data libraries load when a command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

data_app = typer.Typer(help="Inspect and convert data files (records, Alpaca, ShareGPT, OpenAI, CSV/XLSX, …).",
                       no_args_is_help=True)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)
SHOWN_PROBLEMS = 20


def _print_problems(rejected: list[dict], where: Path | None) -> None:
    for entry in rejected[:SHOWN_PROBLEMS]:
        err_console.print(f"[yellow]quarantined:[/yellow] {entry['reason']}", markup=True, highlight=False)
    if len(rejected) > SHOWN_PROBLEMS:
        err_console.print(f"… and {len(rejected) - SHOWN_PROBLEMS} more", highlight=False)
    if where:
        err_console.print(f"[yellow]{len(rejected)} rows quarantined with their reasons in {where}", highlight=False)


@data_app.command("formats")
def formats() -> None:
    """The record kinds and the shipped mappings that --from accepts."""
    from medadapt.records.mapping import load_mapping, shipped_mappings
    from medadapt.records.kinds import RECORD_KINDS

    table = Table(title="formats (--from)")
    table.add_column("name")
    table.add_column("reads")
    for kind in RECORD_KINDS:
        table.add_row(kind, f"canonical {kind} records (JSONL, Parquet, JSON, CSV, XLSX, datasets folder)")
    for name in shipped_mappings():
        mapping = load_mapping(name)
        table.add_row(name, f"[{mapping.kind}] {mapping.description}")
    console.print(table)


@data_app.command("inspect")
def inspect(
    file: Annotated[Path, typer.Argument(help="A data file (or a datasets folder).")],
    from_format: Annotated[Optional[str], typer.Option("--from", help="Record kind or mapping; default: guessed.")] = None,
    lang: Annotated[Optional[str], typer.Option(help="Language of every row (when the file has none).")] = None,
    examples: Annotated[int, typer.Option(min=0, help="How many rendered examples to show.")] = 3,
    model: Annotated[Optional[str], typer.Option(help="Render with this model's chat template; lengths in its tokens.")] = None,
) -> None:
    """Counts, languages, sources, length percentiles and a few examples rendered as training sees them."""
    from medadapt.format.inspect import inspect_file, rendered, summary

    fmt, result = inspect_file(file, from_format, lang)
    if from_format is None:
        console.print(f"read as {fmt} (guessed from its columns; --from chooses another)", highlight=False)
    tokenizer = None
    if model:
        from medadapt.models.chat import load_chat_tokenizer

        tokenizer = load_chat_tokenizer(model, None)
    info = summary(result, tokenizer)
    table = Table(title=str(file))
    table.add_column("what")
    table.add_column("value")
    for key, value in info.items():
        table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
    console.print(table)
    for record in result.records[:examples]:
        console.rule(f"{record.id} · {record.source} · {record.lang}")
        try:
            console.print(rendered(record, tokenizer), markup=False, highlight=False)
        except ValueError as exc:
            console.print(f"(cannot render: {exc})", markup=False)
    if result.rejected:
        _print_problems(result.rejected, None)


@data_app.command("convert")
def convert(
    source: Annotated[Path, typer.Argument(help="Input file (or datasets folder).")],
    out: Annotated[Path, typer.Argument(help="Output: .jsonl/.parquet records, .json (alpaca/sharegpt), "
                                             ".yaml (lm-eval), a folder (hf).")],
    from_format: Annotated[str, typer.Option("--from", help="Record kind or mapping (medadapt data formats).")],
    to: Annotated[str, typer.Option(help="qa, mcqa, chat, text, article, ner, alpaca, sharegpt, openai, hf, lm-eval.")],
    lang: Annotated[Optional[str], typer.Option(help="Override every record's language.")] = None,
    source_name: Annotated[Optional[str], typer.Option("--source", help="Override every record's source.")] = None,
    chunk_chars: Annotated[int, typer.Option(min=100, help="Text chunk size for articles → text.")] = 2000,
    allow_empty: Annotated[bool, typer.Option(help="Succeed even when no row converts.")] = False,
    max_rejected_fraction: Annotated[float, typer.Option(min=0.0, max=1.0, help="Fail when a larger share of "
                                                         "the rows cannot convert.")] = 0.5,
) -> None:
    """Convert a file; bad rows go to OUT's stem + .rejected.jsonl (one reason each), good rows still convert.
    No converted row, or more than --max-rejected-fraction lost, is an error (exit 2)."""
    from medadapt.format.convert import convert_file
    from medadapt.records.losses import LossLimits

    limits = LossLimits(allow_empty=allow_empty, max_rejected_fraction=max_rejected_fraction)
    result = convert_file(source, out, from_format, to, lang=lang, source_name=source_name, chunk_chars=chunk_chars,
                          limits=limits)
    console.print(f"[green]✓[/green] {result.read} rows read, {result.written} written → "
                  f"{', '.join(map(str, result.outputs))}", highlight=False)
    if result.rejected:
        _print_problems(result.rejected, result.rejected_file)
    if result.loss:
        err_console.print(f"[yellow]{result.loss}", highlight=False)
