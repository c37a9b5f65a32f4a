"""``medadapt eval perplexity``: bits per byte, byte and word perplexity of a model on any text or Q&A file (the
same run as the evaluate stage's), and the perplexity part of ``eval compare``. Registered by
``evaluate/cli.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from medadapt.evaluate.tables import grouped_table

perplexity_app = typer.Typer()
console = Console()


def figures_table(title: str, figures: dict[str, Any]) -> Table:
    return grouped_table(title, ("documents", "tokens", "bits per byte", "byte perplexity", "word perplexity"),
                         figures, ("source", "lang"),
                         lambda f: [str(f["n"]), str(f["tokens"]), f"{f['bits_per_byte']:.4f}",
                                    f"{f['byte_perplexity']:.4f}", f"{f['word_perplexity']:.2f}"])


@perplexity_app.command("perplexity")
def eval_perplexity(
    model: Annotated[str, typer.Option(help="Alias, local model directory or hub id.")],
    data: Annotated[Path, typer.Option(help="The documents: any file the record importers read (JSONL, CSV, XLSX, Parquet…).")],
    format: Annotated[str, typer.Option("--format", help="text or article (rolling log-likelihood of the text), qa or chat (the answers given the question), or a data mapping (`medadapt data formats`).")] = "text",
    out: Annotated[Optional[Path], typer.Option(help="Write results.json, scores.jsonl and rejected.jsonl here.")] = None,
    adapter: Annotated[Optional[Path], typer.Option(help="A LoRA adapter folder to apply to the model.")] = None,
    chat_template: Annotated[Optional[str], typer.Option(help="Render Q&A with this template (a shipped name or a YAML file), the one the model was trained with; default: the model's own.")] = None,
    system_prompt: Annotated[Optional[str], typer.Option(help="System prompt put before each Q&A question, as in training (data.system_prompt).")] = None,
    max_length: Annotated[Optional[int], typer.Option(min=2, help="Tokens per rolling window (lm-eval's max_length); default: the model's context length.")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N documents.")] = None,
) -> None:
    """Bits per byte, byte perplexity and word perplexity, overall, per source and per language, as
    lm-evaluation-harness's rolling log-likelihood tasks compute them (text) or of each answer given its
    question in the chat template (Q&A). Under `accelerate launch` the processes score a share of the
    documents' passes each and the main one writes --out."""
    from medadapt.evaluate.kinds import Contestant
    from medadapt.evaluate.perplexity.documents import load_documents
    from medadapt.evaluate.perplexity.run import PerplexityJob, PerplexitySpec, run_perplexity
    from medadapt.runs.processes import is_main

    console.quiet = not is_main()  # under `accelerate launch` every process scores a share; the main one reports
    spec = PerplexitySpec(data.stem, data, format, limit)
    documents, _ = load_documents(data, format, 1)  # the language of the system prompt: the file's
    prompts = {documents[0].lang: system_prompt} if system_prompt and documents else {}
    job = PerplexityJob(model=model, sets=[spec], contestants=[Contestant("model", model, adapter)],
                        max_length=max_length, batch_size=batch_size, chat_template=chat_template,
                        system_prompts=prompts, base_dir=Path.cwd(),
                        about={"adapter": str(adapter) if adapter else None})
    results = run_perplexity(job, console, (lambda _: out) if out else None)[spec.name]
    console.print(figures_table(f"{spec.name} · {model} · {results['kind']}", results["models"]["model"]))
    if out:
        console.print(f"Wrote {out / 'results.json'}, scores.jsonl and rejected.jsonl")


def read_scores(path: Path) -> dict[str, dict[str, list[dict]]]:
    """set → model label → per-document scores, from a run directory, an ``eval perplexity --out`` folder or a
    scores.jsonl; empty when there are none."""
    from medadapt.records.jsonl import iter_jsonl

    files = ([path] if path.is_file() and path.name == "scores.jsonl" else
             sorted(path.glob("evaluate/perplexity/*/scores.jsonl")) or sorted(path.glob("scores.jsonl"))
             if path.is_dir() else [])
    found: dict[str, dict[str, list[dict]]] = {}
    for file in files:
        results = file.with_name("results.json")
        name = json.loads(results.read_text(encoding="utf-8"))["set"] if results.is_file() else file.parent.name
        for row in iter_jsonl(file):
            found.setdefault(name, {}).setdefault(row["model"], []).append(row)
    return found


def perplexity_comparison(a: Path, b: Path | None) -> Table | None:
    """Paired bits-per-byte comparison on the documents both scored (A − B, bootstrap 95 % interval over
    documents); without B, trained vs base within A. None when neither holds perplexity scores."""
    from medadapt.evaluate.perplexity.metrics import paired

    left = read_scores(a)
    right = read_scores(b) if b else left
    if not (left and right):
        return None
    table = Table(title="paired comparison (bits per byte, bootstrap over documents)")
    for column in ("set", "A", "B", "n", "bpb A", "bpb B", "relative", "mean Δ per document", "95 % CI"):
        table.add_column(column)
    for name in sorted(set(left) & set(right)):
        label_a = "trained" if b is None else ("trained" if "trained" in left[name] else next(iter(left[name])))
        label_b = "base" if b is None else ("trained" if "trained" in right[name] else next(iter(right[name])))
        if label_a not in left[name] or label_b not in right[name]:
            continue
        result = paired(left[name][label_a], right[name][label_b], label_a, label_b)
        if result is None:
            continue
        table.add_row(name, label_a, label_b, str(result["n"]), f"{result['bits_per_byte_a']:.4f}",
                      f"{result['bits_per_byte_b']:.4f}", f"{result['relative_change']:+.1%}",
                      f"{result['mean_difference']:+.4f}", f"{result['ci95'][0]:+.4f} to {result['ci95'][1]:+.4f}")
    return table
