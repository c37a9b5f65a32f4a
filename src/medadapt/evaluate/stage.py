"""The evaluate stage: every benchmark, for the base model and the trained one (before/after)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.data.jsonl import write_jsonl
from medadapt.evaluate.benchmark import PreparedBenchmark, prepare_benchmark
from medadapt.evaluate.mcqa import evaluate_mcqa
from medadapt.evaluate.metrics import mcnemar
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.stage import RunDir, Stage, StageContext
from medadapt.train.outputs import trained_model


class EvaluateStage(Stage):
    name = "evaluate"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"model": recipe.model, "evaluate": recipe.evaluate.model_dump(mode="json"), "trained": bool(recipe.train)}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        paths = {}
        for bench in recipe.evaluate.benchmarks:
            paths[f"benchmark.{bench.name}"] = resolve_path(bench.path, recipe_dir, run.root)
            if bench.fewshot_path:
                paths[f"fewshot.{bench.name}"] = resolve_path(bench.fewshot_path, recipe_dir, run.root)
        if recipe.train:
            paths["trained"] = run.stage_dir("train")
        return paths

    def _models(self, ctx: StageContext) -> list[tuple[str, str, Path | None]]:
        """(label, model reference, adapter) for the base model and the trained one."""
        models: list[tuple[str, str, Path | None]] = []
        if ctx.recipe.evaluate.compare_base or not ctx.recipe.train:
            models.append(("base", ctx.recipe.model, None))
        if ctx.recipe.train:
            models.append(("trained", *trained_model(ctx.run.stage_dir("train"), ctx.recipe.model)))
        return models

    def _benchmarks(self, ctx: StageContext) -> list[PreparedBenchmark]:
        return [
            prepare_benchmark(
                b.name, ctx.resolve(b.path), fmt=b.format, style=b.style, languages=ctx.recipe.languages, limit=b.limit,
                num_fewshot=b.num_fewshot, fewshot_path=ctx.resolve(b.fewshot_path) if b.fewshot_path else None,
                pass_mark=b.pass_mark,
            )
            for b in ctx.recipe.evaluate.benchmarks
        ]

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from medadapt.models.loading import load_for_inference

        benchmarks = self._benchmarks(ctx)
        batch_size = ctx.recipe.evaluate.batch_size
        summary: dict[str, Any] = {}
        results: dict[str, dict[str, Any]] = {b.name: {**b.describe(), "model": ctx.recipe.model, "models": {}}
                                              for b in benchmarks}
        predictions: dict[str, dict[str, list[dict]]] = {b.name: {} for b in benchmarks}
        for label, reference, adapter in self._models(ctx):
            model, tokenizer = load_for_inference(reference, adapter)
            for bench in benchmarks:
                metrics, preds = evaluate_mcqa(model, tokenizer, bench.records, batch_size, f"{bench.name} · {label}",
                                               bench.style, bench.fewshot, bench.pass_mark)
                results[bench.name]["models"][label] = metrics
                predictions[bench.name][label] = preds
                summary[f"{bench.name}.{label}.acc"] = metrics["acc"]
                low, high = metrics["ci95"]
                ctx.console.print(f"{bench.name} · {label}: accuracy {metrics['acc']:.3f} "
                                  f"(95 % CI {low:.3f}–{high:.3f}, n={metrics['n']})")
            del model

        for bench in benchmarks:
            by_model = predictions[bench.name]
            if {"base", "trained"} <= set(by_model):
                results[bench.name]["mcnemar_trained_vs_base"] = mcnemar(
                    [p["correct"] for p in by_model["trained"]], [p["correct"] for p in by_model["base"]])
            folder = ctx.out / bench.name
            folder.mkdir()
            (folder / "results.json").write_text(json.dumps(results[bench.name], indent=2, ensure_ascii=False),
                                                 encoding="utf-8")
            write_jsonl(folder / "predictions.jsonl", [{"model": m, **p} for m, ps in by_model.items() for p in ps])
            write_jsonl(folder / "rejected.jsonl", bench.rejected)
        return summary
