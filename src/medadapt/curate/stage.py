"""The curate stage: crawled Q&A and article files → ``curate/<kind>/<split>.jsonl``, ``rejected.jsonl``,
``stats.json`` and length histograms, through the recipe's list of steps."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from medadapt.curate.checkpoint import Checkpoint
from medadapt.curate.config import CurateSection, DecontaminateSpec
from medadapt.curate.engine import make_engine
from medadapt.curate.pipeline import by_lang, run_pipeline
from medadapt.curate.records import Doc
from medadapt.curate.split import split_docs
from medadapt.curate.stats import (body_lengths, by_source_and_language, group_counts, language_table, plot_lengths,
                                   rejection_examples)
from medadapt.curate.steps import StepEnv, build_steps
from medadapt.errors import DataError
from medadapt.records.losses import check_losses, reasons
from medadapt.records.jsonl import write_json, write_jsonl
from medadapt.records.quarantine import FirstIds
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


def read_inputs(section: CurateSection, resolve: Any, base_dir: Path | None = None,
                console: Console | None = None, seed: int = 0) -> tuple[list[Doc], list[dict[str, Any]], list[dict[str, Any]]]:
    """Valid documents, rejected rows (file, row and field named) and per-file counts; ids are unique over
    every input file. A file that gives no qa/article records, or loses too many rows, stops the stage."""
    docs, rejected, files = [], [], []
    ids = FirstIds()
    for i, source in enumerate(section.inputs):
        result = source.read(resolve(source.path), base_dir=base_dir, stage=NAME, ids=ids, seed=seed)
        if result.kind not in ("qa", "article") or (source.kind and result.kind != source.kind):
            raise DataError(f"gives {result.kind} records; curate reads {source.kind or 'qa or article'}",
                            file=source.path, field=f"curate.inputs.{i}")
        line = check_losses(source.path, result.rows, reasons(result.rejected), section, keys="curate.")
        if line and console is not None:
            console.print(f"[yellow]{line}", markup=True, highlight=False)
        rejected += result.rejected
        docs += [Doc(result.kind, record.model_dump(mode="json")) for record in result.records]
        files.append({"path": source.path, "kind": result.kind, "valid": len(result.records),
                      "rejected": len(result.rejected)} | ({"left_out": result.left_out} if result.left_out else {}))
    return docs, rejected, files


class CurateStage(Stage):
    name = NAME
    summary = "normalise, language ID, dedup, filters, PII, decontamination, splits."
    version = "1"


    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        files = {f"input.{i}": resolve_path(s.path, recipe_dir, run.root) for i, s in enumerate(recipe.curate.inputs)}
        files |= {f"input.{i}.mapping": resolve_path(s.mapping_file(), recipe_dir)
                  for i, s in enumerate(recipe.curate.inputs) if s.mapping_file()}
        files |= {f"eval.{name}": path for name, path in evaluation_files(recipe, recipe_dir, run.root).items()}
        return files

    def run(self, ctx: StageContext) -> dict[str, Any]:
        recipe, section = ctx.recipe, ctx.recipe.curate
        # a plain function (not the context's method) so that datatrove can ship the environment to workers
        # absolute paths: a Ray or Slurm worker does not run in this process's working directory
        run_root = ctx.run.root.absolute()
        resolve = partial(resolve_path, base_dir=ctx.recipe_dir, run_dir=run_root)
        formats = {b.name: b.format for b in recipe.evaluate.benchmarks} if recipe.evaluate else {}
        env = StepEnv(recipe.languages, recipe.seed, evaluation_files(recipe, ctx.recipe_dir, run_root), resolve,
                      formats)
        steps = build_steps(section.steps, env)
        docs, read_rejected, files = read_inputs(section, ctx.resolve, ctx.recipe_dir, ctx.console, ctx.recipe.seed)
        before, lengths_before = group_counts(docs), body_lengths(docs)
        inputs = {label: hash_path(path) for label, path in self.inputs(recipe, ctx.recipe_dir, ctx.run).items()}
        # a checkpoint is resumed only by the same pipeline on the same inputs
        pipeline_key = {"curate": section.model_dump(mode="json"), "languages": recipe.languages, "seed": recipe.seed}
        checkpoint = Checkpoint(ctx.run.state_dir(NAME) / "checkpoint", hash_json([pipeline_key, inputs]))
        result = run_pipeline(docs, steps, checkpoint, NAME, lambda s, resumed: _print_step(ctx.console, s, resumed),
                              make_engine(section.engine, env))
        rejected = read_rejected + result.rejected

        seed = section.split.seed if section.split.seed is not None else recipe.seed
        splits = split_docs(result.kept, section.split, seed, sorted({f["kind"] for f in files}))
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
                       "counters": {}, "by_lang": _read_by_lang(docs, read_rejected)}] + result.steps,
            "by_source_and_language": by_source_and_language(before, group_counts(result.kept)),
            "splits": {kind: {s: len(d) for s, d in by_split.items()} for kind, by_split in splits.items()},
            "pii": next((s["counters"] for s in result.steps if s["step"] == "pii"), {}),
            "examples": rejection_examples(rejected, section.examples_per_reason, recipe.seed),
            "plots": plots,
        }
        stats["by_language"] = language_table(stats["steps"])
        write_json(ctx.out / "stats.json", stats)
        checkpoint.remove()
        _print_summary(ctx.console, stats)
        _check_kept(section, stats)
        return {"kept": stats["kept"], "rejected": stats["rejected"], "splits": stats["splits"]}


def _read_by_lang(docs: list[Doc], rejected: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The read step per language; an unreadable row counts under the language it names, if it names one."""
    unreadable = Counter(row["record"]["lang"] if isinstance(row.get("record"), dict)
                         and isinstance(row["record"].get("lang"), str) else "unknown" for row in rejected)
    return by_lang(Counter(d.lang for d in docs) + unreadable, Counter(d.lang for d in docs), unreadable)


def _check_kept(section: CurateSection, stats: dict[str, Any]) -> None:
    """Fail when the language step removed more than the allowed share, or nothing was kept (the quality
    filters' removals are their purpose and only count towards the second)."""
    where = ", ".join(f["path"] for f in stats["files"])
    for step in stats["steps"]:
        if step["step"] == "language" and step["in"]:
            check_losses(f"{where} (language step)", step["in"], Counter(step["by_rule"]), section,
                         what="documents", keys="curate.")
    if not stats["kept"] and stats["read"]:
        removed = Counter({f"{s['step']}: {rule}": n for s in stats["steps"] for rule, n in s["by_rule"].items()})
        check_losses(where, stats["read"], removed, section, what="documents", keys="curate.")


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
    rows = stats["by_language"]
    table = Table(title="curate: per language")
    for column in ["lang", *next(iter(rows.values()), {})]:
        table.add_column(column)
    for lang, row in rows.items():
        table.add_row(lang, *(str(n) for n in row.values()))
    console.print(table)
