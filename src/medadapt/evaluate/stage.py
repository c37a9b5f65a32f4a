"""The evaluate stage: every benchmark, for the base model and the trained one (before/after)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.data.jsonl import read_records, write_jsonl
from medadapt.data.records import MCQARecord
from medadapt.evaluate.mcqa import evaluate_mcqa
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.hashing import hash_file
from medadapt.runs.stage import RunDir, Stage, StageContext


def load_benchmark(
    path: Path, limit: int | None = None, languages: list[str] | None = None
) -> tuple[list[MCQARecord], list[dict]]:
    """Valid questions (in ``languages`` when given, the first ``limit``) and the rejected rows."""
    result = read_records(path, MCQARecord, stage="evaluate")
    records = [r for r in result.records if languages is None or r.lang in languages]
    return records[:limit] if limit else records, result.rejected


class EvaluateStage(Stage):
    name = "evaluate"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"model": recipe.model, "evaluate": recipe.evaluate.model_dump(mode="json"), "trained": bool(recipe.train)}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        paths = {f"benchmark.{b.name}": resolve_path(b.path, recipe_dir, run.root) for b in recipe.evaluate.benchmarks}
        if recipe.train:
            paths["adapter"] = run.stage_dir("train") / "adapter"
        return paths

    def _models(self, ctx: StageContext) -> list[tuple[str, Path | None]]:
        models: list[tuple[str, Path | None]] = []
        if ctx.recipe.evaluate.compare_base or not ctx.recipe.train:
            models.append(("base", None))
        if ctx.recipe.train:
            models.append(("trained", ctx.run.stage_dir("train") / "adapter"))
        return models

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from medadapt.models.loading import load_for_inference

        section = ctx.recipe.evaluate
        benchmarks = {}
        for bench in section.benchmarks:
            path = ctx.resolve(bench.path)
            records, rejected = load_benchmark(path, bench.limit, ctx.recipe.languages)
            benchmarks[bench.name] = (path, records, rejected, bench.style)

        summary: dict[str, Any] = {}
        results: dict[str, dict[str, Any]] = {name: {"models": {}} for name in benchmarks}
        predictions: dict[str, list[dict]] = {name: [] for name in benchmarks}
        for label, adapter in self._models(ctx):
            model, tokenizer = load_for_inference(ctx.recipe.model, adapter)
            for name, (path, records, _, style) in benchmarks.items():
                metrics, preds = evaluate_mcqa(model, tokenizer, records, section.batch_size, f"{name} · {label}", style)
                results[name]["models"][label] = metrics
                predictions[name] += [{"model": label, **p} for p in preds]
                summary[f"{name}.{label}.acc"] = metrics["acc"]
                ctx.console.print(f"{name} · {label}: accuracy {metrics['acc']:.3f} ± {metrics['stderr']:.3f} (n={metrics['n']})")
            del model

        for name, (path, records, rejected, style) in benchmarks.items():
            folder = ctx.out / name
            folder.mkdir()
            results[name].update(benchmark=name, style=style, file=str(path), data_sha256=hash_file(path), n=len(records),
                                 rejected=len(rejected), model=ctx.recipe.model)
            (folder / "results.json").write_text(json.dumps(results[name], indent=2, ensure_ascii=False), encoding="utf-8")
            write_jsonl(folder / "predictions.jsonl", predictions[name])
            write_jsonl(folder / "rejected.jsonl", rejected)
        return summary
