"""``medadapt eval …``: evaluate models on benchmark files outside a recipe, and compare runs."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from medadapt.errors import RunError
from medadapt.evaluate.freeform_cli import freeform_app

eval_app = typer.Typer(help="Evaluate a model on benchmark files, and compare results.", no_args_is_help=True)
eval_app.add_typer(freeform_app)  # eval answer, eval judge, eval kqa
console = Console()


class Engine(str, Enum):
    medadapt = "medadapt"
    lm_eval = "lm-eval"


class Style(str, Enum):
    letters = "letters"
    cloze = "cloze"
    generate = "generate"


def accuracy_table(title: str, metrics: dict[str, Any]) -> Table:
    table = Table(title=title)
    for column in ("group", "n", "accuracy", "± stderr", "95 % CI"):
        table.add_column(column, justify="right" if column != "group" else "left")

    def row(label: str, m: dict[str, Any]) -> None:
        table.add_row(label, str(m["n"]), f"{m['acc']:.3f}", f"{m['stderr']:.3f}", f"{m['ci95'][0]:.3f}–{m['ci95'][1]:.3f}")

    row("overall", metrics)
    for kind in ("by_subject", "by_lang"):
        for key, value in metrics[kind].items():
            row(f"{kind[3:]}: {key}", value)
    return table


@eval_app.command("mcqa")
def eval_mcqa(
    model: Annotated[str, typer.Option(help="Alias, local model directory or hub id.")],
    benchmark: Annotated[str, typer.Option(help="A file of questions, or a named benchmark (evaluate/benchmarks.yaml).")],
    format: Annotated[str, typer.Option("--format", help="How to read the file: mcqa (JSONL) or a data mapping (`medadapt data formats`).")] = "mcqa",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder of your data sets, for a named benchmark (or $MEDADAPT_DATA).")] = None,
    adapter: Annotated[Optional[Path], typer.Option(help="A LoRA adapter folder to apply to the model.")] = None,
    style: Annotated[Optional[Style], typer.Option(help="letters: score A-D (MMLU, the default); cloze: score option texts; generate: parse a free answer.")] = None,
    num_fewshot: Annotated[int, typer.Option(min=0, help="Solved examples per subject before each question.")] = 0,
    chat_template: Annotated[bool, typer.Option(help="Render prompts with the model's chat template (lm-eval's --apply_chat_template).")] = False,
    fewshot: Annotated[Optional[Path], typer.Option(help="Where the examples come from (default: the benchmark itself).")] = None,
    pass_mark: Annotated[Optional[float], typer.Option(min=0, max=1, help="Pass/fail threshold, e.g. 0.36.")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 8,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N questions.")] = None,
    engine: Annotated[Engine, typer.Option(help="medadapt's scorer, or lm-eval's own `hf` model on the same prompts (a cross-check).")] = Engine.medadapt,
    training_data: Annotated[Optional[list[Path]], typer.Option(help="JSONL the model was trained on: questions found in it are reported (repeatable).")] = None,
    exclude_contaminated: Annotated[bool, typer.Option(help="Leave questions found in --training-data out of scoring.")] = False,
    translator: Annotated[Optional[str], typer.Option(help="Translate-pipeline baseline: who translates the questions into --pivot before --model answers (a local model alias/dir, or the served model name with --translator-url).")] = None,
    translator_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible endpoint of the translator, e.g. http://127.0.0.1:8000/v1.")] = None,
    translator_key_env: Annotated[Optional[str], typer.Option(help="Environment variable holding the translator's API key.")] = None,
    pivot: Annotated[str, typer.Option(help="The language --model is asked in when --translator is set.")] = "en",
    out: Annotated[Optional[Path], typer.Option(help="Write results.json and predictions.jsonl here.")] = None,
) -> None:
    """Multiple-choice accuracy per subject and language, with standard error and a bootstrap 95 % interval.

    With --training-data, questions found in the training files are reported (and left out with
    --exclude-contaminated). With --translator, the model is scored as a translate pipeline: questions in
    another language are translated into --pivot first (Gaokerena's baseline)."""
    from medadapt.data.jsonl import write_jsonl
    from medadapt.evaluate.benchmark import definitions, locate_definition, prepare_benchmark
    from medadapt.evaluate.mcqa import evaluate_mcqa
    from medadapt.models.loading import load_for_inference

    spec: dict[str, Any] = {}
    path = Path(benchmark)
    if benchmark in definitions() and not path.exists():
        path, spec = locate_definition(benchmark, data_dir)
    style_name = style.value if style else spec.get("style", "letters")
    bench = prepare_benchmark(benchmark if spec else path.stem, path, fmt=spec.get("format", format), style=style_name,
                              limit=limit, num_fewshot=num_fewshot, fewshot_path=fewshot,
                              pass_mark=pass_mark if pass_mark is not None else spec.get("pass_mark"), chat=chat_template)
    if bench.rejected:
        console.print(f"[yellow]{len(bench.rejected)} rows rejected; first: {bench.rejected[0]['reason']}")
    contamination = None
    if training_data:
        from medadapt.evaluate.contamination import check_contamination

        report = check_contamination(bench.records, training_data)
        contamination = report.as_dict(excluded=exclude_contaminated)
        console.print(f"{len(report.hits)} of {len(bench.records)} questions found in the training data"
                      f"{' (left out)' if exclude_contaminated and report.hits else ''}")
        if exclude_contaminated:
            bench.records = [r for r in bench.records if r.id not in report.hits]
    pipeline = None
    if translator:
        pipeline = _translate_for_pipeline(bench, model, translator, translator_url, translator_key_env, pivot)
    loaded, tokenizer = load_for_inference(model, adapter)
    cross_check = None
    if engine is Engine.lm_eval:
        from medadapt.evaluate.lm_eval_engine import lm_eval_model
        from medadapt.models import resolve_model

        if adapter:
            raise typer.BadParameter("--engine lm-eval scores a model directory; merge the adapter first (medadapt export)")
        cross_check = lm_eval_model(resolve_model(model), batch_size)
    metrics, predictions = evaluate_mcqa(loaded, tokenizer, bench.records, batch_size, bench.name, bench.style,
                                         bench.fewshot, bench.pass_mark, cross_check, chat=bench.chat)
    console.print(accuracy_table(f"{bench.name} · {model} · {style_name}", metrics))
    if bench.pass_mark is not None:
        verdict = "[green]passed[/green]" if metrics["passed"] else "[red]failed[/red]"
        console.print(f"pass mark {bench.pass_mark:.2f}: {verdict}")
    if "unparsed" in metrics:
        console.print(f"unparsed answers: {metrics['unparsed']} (counted wrong; see predictions.jsonl)")
    if out:
        out.mkdir(parents=True, exist_ok=True)
        results = {**bench.describe(), "model": model, "adapter": str(adapter) if adapter else None,
                   "models": {"model": metrics}, "contamination": contamination,
                   "pipelines": {"model": pipeline} if pipeline else {}}
        (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
        write_jsonl(out / "predictions.jsonl", [{"model": "model", **p} for p in predictions])
        console.print(f"Wrote {out / 'results.json'} and predictions.jsonl")


def _translate_for_pipeline(bench: Any, model: str, translator: str, url: str | None, key_env: str | None,
                            pivot: str) -> dict[str, Any]:
    """Replace the benchmark's questions (and few-shot examples) by their translations into ``pivot``."""
    from medadapt.evaluate.config import PipelineConfig
    from medadapt.evaluate.pipeline import Translator, benchmark_in_pivot
    from medadapt.generate.config import BackendConfig
    from medadapt.models.registry import medadapt_home

    backend = BackendConfig(kind="openai" if url else "local", model=translator, base_url=url, api_key_env=key_env)
    config = PipelineConfig(name="cli", model=model, pivot_lang=pivot, translator=backend)
    cache = medadapt_home() / "cache" / "pipeline-translations.sqlite"
    cache.parent.mkdir(parents=True, exist_ok=True)
    client = Translator(config, cache, translator, Path.cwd())
    try:
        questions, bench.fewshot = benchmark_in_pivot(client, bench.records, bench.fewshot)
    finally:
        client.close()
    bench.records = questions.records
    summary = questions.summary()
    console.print(f"translated {summary['translated']} questions into {pivot}; "
                  f"{summary['untranslated_kept_in_source']} unreadable translations kept in the source language")
    return {"model": model, "pivot_lang": pivot, "translator": translator, **summary}


@eval_app.command("import-lm-eval")
def eval_import_lm_eval(
    results: Annotated[Path, typer.Argument(help="lm-eval's results_<date>.json (from --output_path).")],
    task: Annotated[str, typer.Option(help="The task to import.")],
    out: Annotated[Path, typer.Option(help="Write results.json (and predictions.jsonl with samples) here.")],
    metric: Annotated[str, typer.Option(help="acc or acc_norm.")] = "acc",
    samples: Annotated[Optional[Path], typer.Option(help="lm-eval's samples_<task>_<date>.jsonl (default: found beside RESULTS).")] = None,
    label: Annotated[str, typer.Option(help="The model's label in tables and `eval compare`.")] = "lm-eval",
) -> None:
    """Convert an lm-evaluation-harness result into medadapt's results.json, for reports and `eval compare`."""
    from medadapt.data.jsonl import write_jsonl
    from medadapt.evaluate.lm_eval_import import import_task

    imported, predictions = import_task(results, task, metric, label, samples)
    console.print(accuracy_table(f"{task} · lm-eval {metric}", imported["models"][label]))
    console.print(f"interval: {imported['models'][label]['ci95_method']}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(imported, indent=2, ensure_ascii=False), encoding="utf-8")
    if predictions:
        write_jsonl(out / "predictions.jsonl", predictions)
    console.print(f"Wrote {out / 'results.json'}" + (" and predictions.jsonl" if predictions else ""))


def _predictions(path: Path) -> dict[str, dict[str, list[dict]]]:
    """benchmark → model label → predictions, from a run directory or a folder/file of predictions."""
    from medadapt.data.jsonl import iter_jsonl

    files = ([path] if path.is_file() else sorted(path.glob("evaluate/*/predictions.jsonl")) or sorted(path.glob("predictions.jsonl")))
    if not files:
        raise RunError("no predictions.jsonl found (a run directory, an --out folder or the file itself)", file=str(path))
    found: dict[str, dict[str, list[dict]]] = {}
    for file in files:
        results = file.with_name("results.json")
        name = json.loads(results.read_text(encoding="utf-8"))["benchmark"] if results.is_file() else file.parent.name
        for row in iter_jsonl(file):
            found.setdefault(name, {}).setdefault(row["model"], []).append(row)
    return found


@eval_app.command("compare")
def eval_compare(
    a: Annotated[Path, typer.Argument(help="A run directory, an `eval mcqa --out` folder, or predictions.jsonl.")],
    b: Annotated[Optional[Path], typer.Argument(help="The second one; omit to compare base vs trained within A.")] = None,
) -> None:
    """Side-by-side accuracy with a paired significance test (exact McNemar) on the questions both answered."""
    from medadapt.evaluate.metrics import mcnemar

    left = _predictions(a)
    right = _predictions(b) if b else left
    table = Table(title="paired comparison (McNemar)")
    for column in ("benchmark", "A", "B", "n", "acc A", "acc B", "only A right", "only B right", "p-value"):
        table.add_column(column)
    for name in sorted(set(left) & set(right)):
        label_a = "base" if b is None else ("trained" if "trained" in left[name] else next(iter(left[name])))
        label_b = "trained" if b is None else ("trained" if "trained" in right[name] else next(iter(right[name])))
        if label_a not in left[name] or label_b not in right[name]:
            continue
        pa = {p["id"]: p["correct"] for p in left[name][label_a]}
        pb = {p["id"]: p["correct"] for p in right[name][label_b]}
        ids = sorted(set(pa) & set(pb))
        test = mcnemar([pa[i] for i in ids], [pb[i] for i in ids])
        acc = lambda d: sum(d[i] for i in ids) / len(ids)  # noqa: E731
        table.add_row(name, label_a, label_b, str(len(ids)), f"{acc(pa):.3f}", f"{acc(pb):.3f}",
                      str(test["only_a"]), str(test["only_b"]), f"{test['p_value']:.4f}")
    console.print(table)
