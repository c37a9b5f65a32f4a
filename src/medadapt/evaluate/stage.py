"""The evaluate stage: every benchmark for the base model, the trained one (before/after) and any
translate-pipeline baseline, after a contamination check against the training data; lm-eval results imported
beside them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medadapt.data.jsonl import write_jsonl
from medadapt.data.records import MCQARecord
from medadapt.evaluate.benchmark import PreparedBenchmark, prepare_benchmark
from medadapt.evaluate.config import EvaluateSection, PipelineConfig
from medadapt.evaluate.contamination import check_contamination
from medadapt.evaluate.mcqa import evaluate_mcqa
from medadapt.evaluate.metrics import mcnemar
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.stage import RunDir, Stage, StageContext
from medadapt.train.outputs import trained_model


def training_references(recipe: Recipe) -> list[str]:
    """The files the decontamination check reads: the recipe's list, or what the train section trained on."""
    section: EvaluateSection = recipe.evaluate
    if section.decontamination.action == "off":
        return []
    if section.decontamination.training_data is not None:
        return section.decontamination.training_data
    return [reference for _, reference in recipe.train.input_references()] if recipe.train else []


class EvaluateStage(Stage):
    name = "evaluate"
    version = "3"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"model": recipe.model, "evaluate": recipe.evaluate.model_dump(mode="json"), "trained": bool(recipe.train)}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        section: EvaluateSection = recipe.evaluate
        paths = {}
        for bench in section.benchmarks:
            paths[f"benchmark.{bench.name}"] = resolve_path(bench.path, recipe_dir, run.root)
            if bench.fewshot_path:
                paths[f"fewshot.{bench.name}"] = resolve_path(bench.fewshot_path, recipe_dir, run.root)
        for i, reference in enumerate(training_references(recipe)):
            paths[f"training.{i}"] = resolve_path(reference, recipe_dir, run.root)
        for i, imported in enumerate(section.lm_eval_results):
            paths[f"lm_eval.{i}"] = resolve_path(imported.file, recipe_dir, run.root)
        if section.freeform:
            paths["freeform.questions"] = resolve_path(section.freeform.questions, recipe_dir, run.root)
            if section.freeform.judge and section.freeform.judge.prompts:
                paths["freeform.prompts"] = resolve_path(section.freeform.judge.prompts, recipe_dir, run.root)
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
                pass_mark=b.pass_mark, chat=b.chat_template,
            )
            for b in ctx.recipe.evaluate.benchmarks
        ]

    def _decontaminate(self, ctx: StageContext, bench: PreparedBenchmark) -> dict[str, Any] | None:
        """Check the questions against the training files; with ``exclude``, drop the ones found."""
        spec = ctx.recipe.evaluate.decontamination
        files = [ctx.resolve(r) for r in training_references(ctx.recipe)]
        if not files:
            return None
        report = check_contamination(bench.records, files, spec.ngram, spec.min_words)
        ctx.console.print(f"{bench.name}: {len(report.hits)} of {len(bench.records)} questions found in the training "
                          f"data ({'left out of scoring' if spec.action == 'exclude' else 'reported'})")
        if spec.action == "exclude" and report.hits:
            bench.records = [r for r in bench.records if r.id not in report.hits]
        return report.as_dict(excluded=spec.action == "exclude")

    def _translator(self, ctx: StageContext, pipeline: PipelineConfig) -> Any:
        """The pipeline's translator; its cache lives in the stage's state folder, so re-runs send nothing twice."""
        from medadapt.evaluate.pipeline import Translator

        return Translator(pipeline, ctx.run.state_dir(self.name) / f"pipeline-{pipeline.name}.sqlite", ctx.recipe.model,
                          ctx.recipe_dir, ctx.resolve(pipeline.prompts) if pipeline.prompts else None)

    def _pipeline_benchmarks(self, ctx: StageContext, pipeline: PipelineConfig, benchmarks: list[PreparedBenchmark]
                             ) -> dict[str, tuple[Any, dict[str, list[MCQARecord]]]]:
        """Each benchmark's questions and few-shot examples in the pivot language."""
        from medadapt.evaluate.pipeline import benchmark_in_pivot

        translator = self._translator(ctx, pipeline)
        try:
            with ctx.console.status(f"pipeline {pipeline.name}: translating questions into {pipeline.pivot_lang}…"):
                return {b.name: benchmark_in_pivot(translator, b.records, b.fewshot) for b in benchmarks}
        finally:
            translator.close()

    def _pipeline_answerers(self, ctx: StageContext) -> list[Callable[[], Any]]:
        """Free-form answerers for the translate pipelines (made one at a time, as the models are)."""
        from medadapt.evaluate.freeform import LocalAnswerer
        from medadapt.evaluate.pipeline import PipelineAnswerer

        section: EvaluateSection = ctx.recipe.evaluate

        def maker(pipeline: PipelineConfig) -> Callable[[], Any]:
            def make() -> Any:
                label = f"pipeline:{pipeline.name}"
                inner = LocalAnswerer.load(label, pipeline.model, None, max_new_tokens=section.freeform.max_new_tokens,
                                           system_prompt=ctx.recipe.chat.system_prompt,
                                           repetition_penalty=ctx.recipe.chat.repetition_penalty)
                return PipelineAnswerer(label, inner, self._translator(ctx, pipeline))
            return make

        return [maker(p) for p in section.pipelines]

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from medadapt.models.loading import load_for_inference

        section: EvaluateSection = ctx.recipe.evaluate
        benchmarks = self._benchmarks(ctx)
        results: dict[str, dict[str, Any]] = {}
        for b in benchmarks:
            contamination = self._decontaminate(ctx, b)
            results[b.name] = {**b.describe(), "model": ctx.recipe.model, "models": {}, "contamination": contamination}
        predictions: dict[str, dict[str, list[dict]]] = {b.name: {} for b in benchmarks}
        summary: dict[str, Any] = {}

        def score(label: str, model: Any, tokenizer: Any, bench: PreparedBenchmark, records: list[MCQARecord],
                  fewshot: dict[str, list[MCQARecord]]) -> None:
            metrics, preds = evaluate_mcqa(model, tokenizer, records, section.batch_size, f"{bench.name} · {label}",
                                           bench.style, fewshot, bench.pass_mark, chat=bench.chat)
            results[bench.name]["models"][label] = metrics
            predictions[bench.name][label] = preds
            summary[f"{bench.name}.{label}.acc"] = metrics["acc"]
            low, high = metrics["ci95"]
            ctx.console.print(f"{bench.name} · {label}: accuracy {metrics['acc']:.3f} "
                              f"(95 % CI {low:.3f}–{high:.3f}, n={metrics['n']})")

        for label, reference, adapter in self._models(ctx):
            model, tokenizer = load_for_inference(reference, adapter)
            for bench in benchmarks:
                score(label, model, tokenizer, bench, bench.records, bench.fewshot)
            del model
        for pipeline in section.pipelines:
            translated = self._pipeline_benchmarks(ctx, pipeline, benchmarks)
            model, tokenizer = load_for_inference(pipeline.model)
            label = f"pipeline:{pipeline.name}"
            for bench in benchmarks:
                questions, fewshot = translated[bench.name]
                score(label, model, tokenizer, bench, questions.records, fewshot)
                results[bench.name].setdefault("pipelines", {})[label] = {
                    "model": pipeline.model, "pivot_lang": pipeline.pivot_lang,
                    "translator": pipeline.translator.model or ctx.recipe.model, **questions.summary()}
            del model
        self._import_lm_eval(ctx, results, predictions)
        if section.freeform:
            from medadapt.evaluate.freeform_stage import run_freeform

            summary |= run_freeform(ctx, self._models(ctx), section.freeform, self._pipeline_answerers(ctx))

        for name, by_model in predictions.items():
            if {"base", "trained"} <= set(by_model):
                results[name]["mcnemar_trained_vs_base"] = mcnemar(
                    [p["correct"] for p in by_model["trained"]], [p["correct"] for p in by_model["base"]])
            folder = ctx.out / name
            folder.mkdir()
            (folder / "results.json").write_text(json.dumps(results[name], indent=2, ensure_ascii=False), encoding="utf-8")
            write_jsonl(folder / "predictions.jsonl", [{"model": m, **p} for m, ps in by_model.items() for p in ps])
            bench = next((b for b in benchmarks if b.name == name), None)
            write_jsonl(folder / "rejected.jsonl", bench.rejected if bench else [])
        return summary

    def _import_lm_eval(self, ctx: StageContext, results: dict[str, dict[str, Any]],
                        predictions: dict[str, dict[str, list[dict]]]) -> None:
        """lm-eval tasks as a column of a benchmark's table, or as a table of their own."""
        from medadapt.evaluate.lm_eval_import import import_task

        for spec in ctx.recipe.evaluate.lm_eval_results:
            imported, preds = import_task(ctx.resolve(spec.file), spec.task, spec.metric, spec.label)
            if spec.benchmark:
                results[spec.benchmark]["models"][spec.label] = imported["models"][spec.label]
                predictions[spec.benchmark][spec.label] = preds
            else:
                name = f"{spec.task}.{spec.label}"
                results[name] = imported
                predictions[name] = {spec.label: preds}
            ctx.console.print(f"imported lm-eval {spec.task} ({spec.metric}) as {spec.label}: "
                              f"{imported['models'][spec.label]['acc']:.3f}")
