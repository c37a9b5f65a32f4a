"""One multiple-choice evaluation, run the same way by the evaluate stage and by ``medadapt eval mcqa``: prepare
each benchmark, check it against the training data, translate it for each pipeline contestant, score every
contestant on it, import lm-eval results beside them, and write results.json, predictions.jsonl and
rejected.jsonl per benchmark.

Under a multi-process launch every process runs it: each scores a share of every contestant's batches
(``scoring``, ``generative``), the main process alone translates and writes, so the files are one process's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from medadapt.errors import ModelError
from medadapt.evaluate.kinds import Contestant, OpenTranslator
from medadapt.evaluate.mcqa.benchmark import BenchmarkSpec, PreparedBenchmark, no_questions, prepare_benchmark
from medadapt.evaluate.mcqa.config import DecontaminationConfig, LmEvalImport
from medadapt.evaluate.mcqa.metrics import paired_mcnemar
from medadapt.records.jsonl import write_json, write_jsonl
from medadapt.records.kinds import MCQARecord
from medadapt.runs.processes import is_main, on_main

if TYPE_CHECKING:
    from medadapt.evaluate.config import EvaluateSection
    from medadapt.recipe import Recipe
    from medadapt.runs.stage import StageContext

Fewshot = dict[str, list[MCQARecord]]


@dataclass
class McqaJob:
    """Everything one evaluation needs, whoever asks for it. ``model`` is the model results.json names (the
    recipe's); ``about`` adds fields after it (``eval mcqa``: the adapter)."""

    model: str
    benchmarks: list[BenchmarkSpec]
    contestants: list[Contestant]
    translator: OpenTranslator
    batch_size: int = 8
    decontamination: DecontaminationConfig = field(default_factory=DecontaminationConfig)
    training_files: list[Path] = field(default_factory=list)  # none: no contamination check
    lm_eval_results: list[tuple[LmEvalImport, Path]] = field(default_factory=list)
    engine: str = "medadapt"  # or lm-eval: lm-eval's own `hf` model scores the same requests (a cross-check)
    about: dict[str, Any] = field(default_factory=dict)


@dataclass
class McqaOutcome:
    benchmarks: list[PreparedBenchmark]
    results: dict[str, dict[str, Any]]  # table (benchmark, or imported lm-eval task) → its results.json
    predictions: dict[str, dict[str, list[dict]]]  # table → contestant label → predictions
    summary: dict[str, Any]  # <table>.<label>.acc, for the stage's manifest


def run_mcqa(job: McqaJob, console: Console, destination: Callable[[str], Path] | None = None) -> McqaOutcome:
    """Score every contestant on every benchmark; with ``destination`` (table name → folder), write the files."""
    from medadapt.evaluate.mcqa.predict import evaluate_mcqa
    from medadapt.models.loading import load_for_inference

    if job.engine == "lm-eval" and any(c.adapter is not None for c in job.contestants):
        raise ModelError("--engine lm-eval scores a model directory; merge the adapter first (medadapt export)",
                         field="engine lm-eval")
    benchmarks = [prepare_benchmark(spec) for spec in job.benchmarks]
    results: dict[str, dict[str, Any]] = {}
    for bench in benchmarks:
        if bench.rejected:
            console.print(f"[yellow]{bench.name}: {len(bench.rejected)} rows rejected; first: "
                          f"{bench.rejected[0]['reason']}")
        contamination = _decontaminate(job, bench, console)
        results[bench.name] = {**bench.describe(), "model": job.model, **job.about, "models": {},
                               "contamination": contamination}
    predictions: dict[str, dict[str, list[dict]]] = {b.name: {} for b in benchmarks}
    summary: dict[str, Any] = {}
    for contestant in job.contestants:
        # a pipeline's translation calls its service from the main process alone (its cache is one file)
        questions = on_main(lambda: _in_pivot(job, contestant, benchmarks, results, console)) if contestant.pipeline \
            else {b.name: (b.records, b.fewshot) for b in benchmarks}
        model, tokenizer = load_for_inference(contestant.reference, contestant.adapter, contestant.trust_remote_code)
        parameters = sum(p.numel() for p in model.parameters())  # the papers' tables print each model's size
        cross_check = _lm_eval_model(contestant, job.batch_size) if job.engine == "lm-eval" else None
        for bench in benchmarks:
            records, fewshot = questions[bench.name]
            metrics, preds = evaluate_mcqa(model, tokenizer, records, job.batch_size,
                                           f"{bench.name} · {contestant.label}", bench.style, fewshot, bench.pass_mark,
                                           cross_check, chat=bench.chat, prompts=bench.prompts)
            results[bench.name]["models"][contestant.label] = {**metrics, "parameters": parameters}
            predictions[bench.name][contestant.label] = preds
            summary[f"{bench.name}.{contestant.label}.acc"] = metrics["acc"]
            low, high = metrics["ci95"]
            verdict = "" if bench.pass_mark is None else (
                f", pass mark {bench.pass_mark:.0%}: " + ("[green]passed[/green]" if metrics["passed"] else "[red]failed[/red]"))
            console.print(f"{bench.name} · {contestant.label}: accuracy {metrics['acc']:.3f} "
                          f"(95 % CI {low:.3f}–{high:.3f}, n={metrics['n']}){verdict}")
        del model  # free it before the next one loads
    _import_lm_eval(job, results, predictions, console)
    for name, by_model in predictions.items():
        if "base" in by_model:  # every other column against the base model, on the questions both answered
            tests = {label: paired_mcnemar(preds, by_model["base"]) for label, preds in by_model.items()
                     if label != "base"}
            results[name]["mcnemar_vs_base"] = tests
            if "trained" in tests:
                results[name]["mcnemar_trained_vs_base"] = tests["trained"]
            for label, test in tests.items():
                console.print(f"{name} · {label} vs base: McNemar p = {test['p_value']:.3g} ({test['only_a']} right "
                              f"only for {label}, {test['only_b']} only for base, n={test['n']})")
    outcome = McqaOutcome(benchmarks, results, predictions, summary)
    if destination is not None and is_main():  # under a launch every process has the outcome; one writes
        write_outcome(outcome, destination)
    return outcome


def write_outcome(outcome: McqaOutcome, destination: Callable[[str], Path]) -> None:
    """Per table: results.json, every contestant's predictions.jsonl and the rows the benchmark rejected."""
    rejected = {b.name: b.rejected for b in outcome.benchmarks}
    for name, by_model in outcome.predictions.items():
        folder = destination(name)
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / "results.json", outcome.results[name])
        write_jsonl(folder / "predictions.jsonl", [{"model": m, **p} for m, ps in by_model.items() for p in ps])
        write_jsonl(folder / "rejected.jsonl", rejected.get(name, []))


def _decontaminate(job: McqaJob, bench: PreparedBenchmark, console: Console) -> dict[str, Any] | None:
    """Check the questions against the training files; with ``exclude``, drop the ones found."""
    from medadapt.evaluate.mcqa.contamination import check_contamination

    spec = job.decontamination
    if not job.training_files or spec.action == "off":
        return None
    report = check_contamination(bench.records, job.training_files, spec.ngram, spec.min_words)
    excluded = spec.action == "exclude"
    console.print(f"{bench.name}: {len(report.hits)} of {len(bench.records)} questions found in the training data "
                  f"({'left out' if excluded else 'reported'})")
    if excluded and report.hits:
        bench.records = [r for r in bench.records if r.id not in report.hits]
        if not bench.records:
            raise no_questions(bench.path, [], "every question was found in the training data (decontamination "
                                               "action exclude)")
    return report.as_dict(excluded=excluded)


def _in_pivot(job: McqaJob, contestant: Contestant, benchmarks: list[PreparedBenchmark],
              results: dict[str, dict[str, Any]], console: Console) -> dict[str, tuple[list[MCQARecord], Fewshot]]:
    """Each benchmark's questions and few-shot examples in the pipeline's pivot language; what was translated
    goes into results.json under ``pipelines``."""
    from medadapt.evaluate.mcqa.pipeline import benchmark_in_pivot

    pipeline = contestant.pipeline
    assert pipeline is not None
    translator = job.translator(pipeline)
    try:
        with console.status(f"{contestant.label}: translating questions into {pipeline.pivot_lang}…"):
            translated = {b.name: benchmark_in_pivot(translator, b.records, b.fewshot) for b in benchmarks}
    finally:
        translator.close()
    for name, (questions, _) in translated.items():
        summary = questions.summary()
        results[name].setdefault("pipelines", {})[contestant.label] = {
            "model": pipeline.model, "pivot_lang": pipeline.pivot_lang,
            "translator": pipeline.translator.model or job.model, **summary}
        console.print(f"{name} · {contestant.label}: translated {summary['translated']} questions into "
                      f"{pipeline.pivot_lang}; {summary['untranslated_kept_in_source']} unreadable translations kept "
                      f"in the source language")
    return {name: (questions.records, fewshot) for name, (questions, fewshot) in translated.items()}


def _lm_eval_model(contestant: Contestant, batch_size: int) -> Any:
    from medadapt.evaluate.mcqa.lm_eval_engine import lm_eval_model
    from medadapt.models import resolve_model

    return lm_eval_model(resolve_model(contestant.reference), batch_size,
                         trust_remote_code=contestant.trust_remote_code)


def _import_lm_eval(job: McqaJob, results: dict[str, dict[str, Any]], predictions: dict[str, dict[str, list[dict]]],
                    console: Console) -> None:
    """lm-eval tasks as a column of a benchmark's table, or as a table of their own."""
    from medadapt.evaluate.mcqa.lm_eval_import import import_task

    for spec, path in job.lm_eval_results:
        imported, preds = import_task(path, spec.task, spec.metric, spec.label)
        if spec.benchmark:
            results[spec.benchmark]["models"][spec.label] = imported["models"][spec.label]
            predictions[spec.benchmark][spec.label] = preds
        else:
            name = f"{spec.task}.{spec.label}"
            results[name] = imported
            predictions[name] = {spec.label: preds}
        console.print(f"imported lm-eval {spec.task} ({spec.metric}) as {spec.label}: "
                      f"{imported['models'][spec.label]['acc']:.3f}")


def training_references(recipe: Recipe) -> list[str]:
    """The files the decontamination check reads: the recipe's list, or what the train section trained on."""
    section: EvaluateSection = recipe.evaluate
    if section.decontamination.action == "off":
        return []
    if section.decontamination.training_data is not None:
        return section.decontamination.training_data
    return [reference for _, reference in recipe.train.input_references()] if recipe.train else []


class McqaKind:
    """Multiple choice in the evaluate stage: the recipe's benchmarks, one folder of outputs each."""

    name = "mcqa"
    every_process = True

    def configured(self, section: EvaluateSection) -> bool:
        return bool(section.benchmarks)

    def inputs(self, recipe: Recipe) -> dict[str, str]:
        section: EvaluateSection = recipe.evaluate
        references = {}
        for bench in section.benchmarks:
            references[f"benchmark.{bench.name}"] = bench.path
            if bench.fewshot_path:
                references[f"fewshot.{bench.name}"] = bench.fewshot_path
            if bench.prompt_file:
                references[f"prompts.{bench.name}"] = bench.prompt_file
        for i, reference in enumerate(training_references(recipe)):
            references[f"training.{i}"] = reference
        for i, imported in enumerate(section.lm_eval_results):
            references[f"lm_eval.{i}"] = imported.file
        return references

    def run(self, ctx: StageContext, contestants: list[Contestant], translator: OpenTranslator) -> dict[str, Any]:
        section: EvaluateSection = ctx.recipe.evaluate
        languages = tuple(ctx.recipe.languages)
        job = McqaJob(
            model=ctx.recipe.model,
            benchmarks=[BenchmarkSpec(b.name, ctx.resolve(b.path), b.format, b.style, languages, b.limit, b.num_fewshot,
                                      ctx.resolve(b.fewshot_path) if b.fewshot_path else None, b.pass_mark,
                                      b.chat_template, b.prompt, ctx.resolve(b.prompt_file) if b.prompt_file else None,
                                      b.lang, b.where)
                        for b in section.benchmarks],
            contestants=contestants, translator=translator, batch_size=section.batch_size,
            decontamination=section.decontamination,
            training_files=[ctx.resolve(r) for r in training_references(ctx.recipe)],
            lm_eval_results=[(spec, ctx.resolve(spec.file)) for spec in section.lm_eval_results])
        return run_mcqa(job, ctx.console, lambda name: ctx.out / name).summary
