"""The curate stage: crawled Q&A and article files → ``curate/<kind>/<split>.jsonl``, ``rejected.jsonl``,
``stats.json`` and length histograms, through the recipe's list of steps."""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from medadapt.curate.checkpoint import Checkpoint
from medadapt.curate.config import CurateSection, DecontaminateSpec
from medadapt.curate.engine import make_engine
from medadapt.curate.pipeline import run_pipeline
from medadapt.curate.records import Doc
from medadapt.curate.split import split_docs
from medadapt.curate.stats import body_lengths, by_source_and_language, group_counts, plot_lengths, rejection_examples
from medadapt.curate.steps import StepEnv, build_steps
from medadapt.data.jsonl import read_records, write_jsonl
from medadapt.data.quarantine import rejection
from medadapt.data.records import RECORD_KINDS
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.hashing import hash_json, hash_path
from medadapt.runs.stage import RunDir, Stage, StageContext

NAME = "curate"


def evaluation_files(recipe: Recipe, recipe_dir: Path, run_root: Path) -> dict[str, Path]:
    """Evaluation sets to decontaminate against: the recipe's benchmarks and each step's extra files."""
    specs = [s for s in recipe.curate.steps if isinstance(s, DecontaminateSpec)]
    files: dict[str, Path] = {}
    if any(s.use_recipe_benchmarks for s in specs) and recipe.evaluate is not None:
        files |= {b.name: resolve_path(b.path, recipe_dir, run_root) for b in recipe.evaluate.benchmarks}
    for spec in specs:
        files |= {Path(ref).stem: resolve_path(ref, recipe_dir, run_root) for ref in spec.extra}
    return files


def read_inputs(section: CurateSection, resolve: Any) -> tuple[list[Doc], list[dict[str, Any]], list[dict[str, Any]]]:
    """Valid documents, rejected rows (file, row and field named) and per-file counts."""
    docs, rejected, files = [], [], []
    seen: dict[str, str] = {}
    for source in section.inputs:
        path = resolve(source.path)
        result = read_records(path, RECORD_KINDS[source.kind], stage=NAME)
        for row in result.rejected:
            row["rule"] = "invalid_row"
        rejected += result.rejected
        for number, record in enumerate(result.records, start=1):
            data = record.model_dump(mode="json")
            if source.source:
                data["source"] = source.source
            if data["id"] in seen:
                row = rejection(str(path), None, "id", f"duplicate id {data['id']!r} (first in {seen[data['id']]})",
                                data, stage=NAME, step="read")
                rejected.append(row | {"rule": "duplicate_id", "kind": source.kind})
                continue
            seen[data["id"]] = str(path)
            docs.append(Doc(source.kind, data))
        files.append({"path": source.path, "kind": source.kind, "valid": len(result.records),
                      "rejected": len(result.rejected)})
    return docs, rejected, files


class CurateStage(Stage):
    name = NAME
    version = "1"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"curate": recipe.curate.model_dump(mode="json"), "languages": recipe.languages, "seed": recipe.seed}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        files = {f"input.{i}": resolve_path(s.path, recipe_dir, run.root) for i, s in enumerate(recipe.curate.inputs)}
        files |= {f"eval.{name}": path for name, path in evaluation_files(recipe, recipe_dir, run.root).items()}
        return files

    def run(self, ctx: StageContext) -> dict[str, Any]:
        recipe, section = ctx.recipe, ctx.recipe.curate
        # a plain function (not the context's method) so that datatrove can ship the environment to workers
        resolve = partial(resolve_path, base_dir=ctx.recipe_dir, run_dir=ctx.run.root)
        formats = {b.name: b.format for b in recipe.evaluate.benchmarks} if recipe.evaluate else {}
        env = StepEnv(recipe.languages, recipe.seed, evaluation_files(recipe, ctx.recipe_dir, ctx.run.root), resolve,
                      formats)
        steps = build_steps(section.steps, env)
        docs, read_rejected, files = read_inputs(section, ctx.resolve)
        before, lengths_before = group_counts(docs), body_lengths(docs)
        inputs = {label: hash_path(path) for label, path in self.inputs(recipe, ctx.recipe_dir, ctx.run).items()}
        checkpoint = Checkpoint(ctx.run.state_dir(NAME) / "checkpoint", hash_json([self.config(recipe), inputs]))
        result = run_pipeline(docs, steps, checkpoint, NAME, lambda s, resumed: _print_step(ctx.console, s, resumed),
                              make_engine(section.engine, env))
        rejected = read_rejected + result.rejected

        seed = section.split.seed if section.split.seed is not None else recipe.seed
        splits = split_docs(result.kept, section.split, seed, sorted({i.kind for i in section.inputs}))
        for kind, by_split in splits.items():
            (ctx.out / kind).mkdir()
            for split, split_docs_ in by_split.items():
                write_jsonl(ctx.out / kind / f"{split}.jsonl", (d.record for d in split_docs_))
        write_jsonl(ctx.out / "rejected.jsonl", rejected)
        plots = plot_lengths(lengths_before, body_lengths(result.kept), ctx.out)
        stats = {
            "read": len(docs) + len(read_rejected),
            "kept": len(result.kept),
            "rejected": len(rejected),
            "files": files,
            "steps": [{"step": "read", "in": len(docs) + len(read_rejected), "out": len(docs),
                       "removed": len(read_rejected), "by_rule": dict(Counter(r["rule"] for r in read_rejected)),
                       "counters": {}}] + result.steps,
            "by_source_and_language": by_source_and_language(before, group_counts(result.kept)),
            "splits": {kind: {s: len(d) for s, d in by_split.items()} for kind, by_split in splits.items()},
            "pii": next((s["counters"] for s in result.steps if s["step"] == "pii"), {}),
            "examples": rejection_examples(rejected, section.examples_per_reason, recipe.seed),
            "plots": plots,
        }
        (ctx.out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False), encoding="utf-8")
        checkpoint.remove()
        _print_summary(ctx.console, stats)
        return {"kept": stats["kept"], "rejected": stats["rejected"], "splits": stats["splits"]}


def _print_step(console: Console, summary: dict[str, Any], resumed: bool) -> None:
    note = " [dim](from checkpoint)[/dim]" if resumed else ""
    console.print(f"  {summary['step']}: {summary['in']} → {summary['out']}{note}")


def _print_summary(console: Console, stats: dict[str, Any]) -> None:
    table = Table(title="curate: what each step removed")
    for column in ("step", "in", "out", "removed", "why"):
        table.add_column(column)
    for step in stats["steps"]:
        why = ", ".join(f"{rule} {n}" for rule, n in step["by_rule"].items())
        table.add_row(step["step"], str(step["in"]), str(step["out"]), str(step["removed"]), why)
    console.print(table)
    table = Table(title="curate: per source and language")
    for column in ("kind", "source", "lang", "docs before", "docs after", "words before", "words after"):
        table.add_column(column)
    for row in stats["by_source_and_language"]:
        table.add_row(row["kind"], row["source"], row["lang"], *(str(row[k]) for k in
                      ("docs_before", "docs_after", "words_before", "words_after")))
    console.print(table)
