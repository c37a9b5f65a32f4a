"""``medadapt eval mcqa | import-lm-eval | compare``: multiple-choice accuracy of a model on benchmark files
outside a recipe (the same run as the evaluate stage's), lm-eval results in medadapt's format, and paired
comparisons of runs. Registered by ``evaluate/cli.py``."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from medadapt.errors import RunError
from medadapt.evaluate.tables import grouped_table

if TYPE_CHECKING:
    from medadapt.evaluate.config import PipelineConfig
    from medadapt.evaluate.translator import Translator

mcqa_app = typer.Typer()
console = Console()


class Engine(str, Enum):
    medadapt = "medadapt"
    lm_eval = "lm-eval"


class Style(str, Enum):
    letters = "letters"
    cloze = "cloze"
    generate = "generate"


def accuracy_table(title: str, metrics: dict[str, Any]) -> Table:
    return grouped_table(title, ("n", "accuracy", "± stderr", "95 % CI"), metrics, ("subject", "lang"),
                         lambda m: [str(m["n"]), f"{m['acc']:.3f}", f"{m['stderr']:.3f}",
                                    f"{m['ci95'][0]:.3f}–{m['ci95'][1]:.3f}"])


@mcqa_app.command("mcqa")
def eval_mcqa(
    model: Annotated[str, typer.Option(help="Alias, local model directory or hub id.")],
    benchmark: Annotated[str, typer.Option(help="A file of questions, or a named benchmark (evaluate/mcqa/benchmarks.yaml).")],
    format: Annotated[str, typer.Option("--format", help="How to read the file: mcqa (JSONL) or a data mapping (`medadapt data formats`).")] = "mcqa",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder of your data sets, for a named benchmark (or $MEDADAPT_DATA).")] = None,
    adapter: Annotated[Optional[Path], typer.Option(help="A LoRA adapter folder to apply to the model.")] = None,
    style: Annotated[Optional[Style], typer.Option(help="letters: score A-D (MMLU, the default); cloze: score option texts; generate: parse a free answer.")] = None,
    num_fewshot: Annotated[int, typer.Option(min=0, help="Solved examples per subject before each question.")] = 0,
    chat_template: Annotated[bool, typer.Option(help="Render prompts with the model's chat template (lm-eval's --apply_chat_template).")] = False,
    prompt: Annotated[Optional[str], typer.Option(help="Ask every question with this prompts.yaml entry (e.g. headqa); default: the question's language, or the named benchmark's.")] = None,
    lang: Annotated[Optional[str], typer.Option(help="The language of every question, for a layout several languages share (MMedBench).")] = None,
    prompt_file: Annotated[Optional[Path], typer.Option(help="A YAML file shaped like evaluate/mcqa/prompts.yaml whose entries add to or replace the shipped ones.")] = None,
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
    another language are translated into --pivot first (Gaokerena's baseline). Under `accelerate launch`
    the processes score a share of the questions each and the main one writes --out."""
    from medadapt.evaluate.kinds import Contestant
    from medadapt.evaluate.mcqa.benchmark import BenchmarkSpec, definitions, locate_definition
    from medadapt.evaluate.mcqa.config import DecontaminationConfig
    from medadapt.evaluate.mcqa.run import McqaJob, run_mcqa
    from medadapt.runs.processes import is_main

    console.quiet = not is_main()  # under `accelerate launch` every process scores a share; the main one reports
    spec: dict[str, Any] = {}
    path = Path(benchmark)
    if benchmark in definitions() and not path.exists():
        path, spec = locate_definition(benchmark, data_dir)
    style_name = style.value if style else spec.get("style", "letters")
    source = BenchmarkSpec(benchmark if spec else path.stem, path, spec.get("format", format), style_name, None, limit,
                           num_fewshot, fewshot, pass_mark if pass_mark is not None else spec.get("pass_mark"),
                           chat_template, prompt or spec.get("prompt"), prompt_file, lang or spec.get("lang"),
                           spec.get("where"))
    pipeline = _pipeline(model, translator, translator_url, translator_key_env, pivot) if translator else None
    job = McqaJob(model=model, benchmarks=[source], contestants=[Contestant("model", model, adapter, pipeline)],
                  translator=_open_translator, batch_size=batch_size,
                  decontamination=DecontaminationConfig(action="exclude" if exclude_contaminated else "report"),
                  training_files=list(training_data or []), engine=engine.value,
                  about={"adapter": str(adapter) if adapter else None})
    outcome = run_mcqa(job, console, (lambda _: out) if out else None)
    bench, results = outcome.benchmarks[0], outcome.results[source.name]
    metrics = results["models"]["model"]
    console.print(accuracy_table(f"{bench.name} · {model} · {style_name}", metrics))
    if "unparsed" in metrics:
        console.print(f"unparsed answers: {metrics['unparsed']} (counted wrong; see predictions.jsonl)")
    if out:
        console.print(f"Wrote {out / 'results.json'}, predictions.jsonl and rejected.jsonl")


def _pipeline(model: str, translator: str, url: str | None, key_env: str | None, pivot: str) -> PipelineConfig:
    """--translator as a pipeline in front of --model: questions go into ``pivot`` before the model answers."""
    from medadapt.evaluate.config import PipelineConfig
    from medadapt.llm.config import BackendConfig

    backend = BackendConfig(kind="openai" if url else "local", model=translator, base_url=url, api_key_env=key_env)
    return PipelineConfig(name="cli", model=model, pivot_lang=pivot, translator=backend)


def _open_translator(pipeline: PipelineConfig) -> Translator:
    """The translator of ``eval mcqa --translator``, with one request cache for every such run on this machine."""
    from medadapt.evaluate.translator import Translator
    from medadapt.models.catalog import medadapt_home

    cache = medadapt_home() / "cache" / "pipeline-translations.sqlite"
    cache.parent.mkdir(parents=True, exist_ok=True)
    return Translator(pipeline, cache, pipeline.translator.model, Path.cwd())


@mcqa_app.command("import-lm-eval")
def eval_import_lm_eval(
    results: Annotated[Path, typer.Argument(help="lm-eval's results_<date>.json (from --output_path).")],
    task: Annotated[str, typer.Option(help="The task to import.")],
    out: Annotated[Path, typer.Option(help="Write results.json (and predictions.jsonl with samples) here.")],
    metric: Annotated[str, typer.Option(help="acc or acc_norm.")] = "acc",
    samples: Annotated[Optional[Path], typer.Option(help="lm-eval's samples_<task>_<date>.jsonl (default: found beside RESULTS).")] = None,
    label: Annotated[str, typer.Option(help="The model's label in tables and `eval compare`.")] = "lm-eval",
) -> None:
    """Convert an lm-evaluation-harness result into medadapt's results.json, for reports and `eval compare`."""
    from medadapt.evaluate.mcqa.lm_eval_import import import_task
    from medadapt.records.jsonl import write_json, write_jsonl

    imported, predictions = import_task(results, task, metric, label, samples)
    console.print(accuracy_table(f"{task} · lm-eval {metric}", imported["models"][label]))
    console.print(f"interval: {imported['models'][label]['ci95_method']}")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", imported)
    if predictions:
        write_jsonl(out / "predictions.jsonl", predictions)
    console.print(f"Wrote {out / 'results.json'}" + (" and predictions.jsonl" if predictions else ""))


def _predictions(path: Path) -> dict[str, dict[str, list[dict]]]:
    """benchmark → model label → predictions, from a run directory or a folder/file of predictions (none: empty)."""
    from medadapt.records.jsonl import iter_jsonl

    if path.is_file() and path.name != "predictions.jsonl":
        return {}
    files = ([path] if path.is_file() else sorted(path.glob("evaluate/*/predictions.jsonl")) or sorted(path.glob("predictions.jsonl")))
    found: dict[str, dict[str, list[dict]]] = {}
    for file in files:
        results = file.with_name("results.json")
        name = json.loads(results.read_text(encoding="utf-8"))["benchmark"] if results.is_file() else file.parent.name
        for row in iter_jsonl(file):
            found.setdefault(name, {}).setdefault(row["model"], []).append(row)
    return found


@mcqa_app.command("compare")
def eval_compare(
    a: Annotated[Path, typer.Argument(help="A run directory, an `eval mcqa` / `eval perplexity` --out folder, or predictions.jsonl / scores.jsonl.")],
    b: Annotated[Optional[Path], typer.Argument(help="The second one; omit to compare base vs trained within A.")] = None,
) -> None:
    """Side-by-side accuracy with a paired significance test (exact McNemar) on the questions both answered, and
    bits per byte on the documents both scored (mean per-document difference, bootstrap 95 % interval)."""
    from medadapt.evaluate.mcqa.metrics import mcnemar
    from medadapt.evaluate.perplexity.cli import perplexity_comparison

    perplexity = perplexity_comparison(a, b)
    left = _predictions(a)
    right = _predictions(b) if b else left
    if not (left and right) and perplexity is None:
        raise RunError("no predictions.jsonl or perplexity scores.jsonl found (a run directory, an --out folder or "
                       "the file itself)", file=str(a if not left else b))
    if perplexity is not None:
        console.print(perplexity)
    if not (left and right):
        return
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
