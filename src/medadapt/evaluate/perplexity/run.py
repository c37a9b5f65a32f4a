"""One perplexity evaluation, run the same way by the evaluate stage and by ``medadapt eval perplexity``: read
each set's documents, score them with every model (each loaded once for all sets), and write per set
``results.json`` (the figures per model, by source and language, and the paired comparisons) and
``scores.jsonl`` (one row per model and document, what ``eval compare`` pairs).

Translate-pipeline contestants are not scored: their model reads another language than the documents'.
Under a multi-process launch every process runs it, scoring a share of the batches (``scoring``); the main
process writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from medadapt.errors import DataError
from medadapt.evaluate.kinds import Contestant, OpenTranslator
from medadapt.evaluate.perplexity.config import PerplexityConfig
from medadapt.evaluate.perplexity.documents import Document, load_documents
from medadapt.evaluate.perplexity.metrics import document_bits_per_byte, paired, summarise
from medadapt.records.jsonl import write_json, write_jsonl
from medadapt.runs.processes import is_main

if TYPE_CHECKING:
    from medadapt.evaluate.config import EvaluateSection
    from medadapt.recipe import Recipe
    from medadapt.runs.stage import StageContext


@dataclass
class PerplexitySpec:
    """One set as the run reads it."""

    name: str
    path: Path
    format: str
    limit: int | None = None


@dataclass
class PerplexityJob:
    model: str  # what results.json names (the recipe's model, or --model)
    sets: list[PerplexitySpec]
    contestants: list[Contestant]
    max_length: int | None = None
    batch_size: int = 4
    chat_template: str | None = None  # a shipped template name or a YAML file (relative to base_dir)
    system_prompts: dict[str, str] = field(default_factory=dict)  # per language, as the data stage adds them
    base_dir: Path | None = None
    pairs: list[tuple[str, str]] | None = None  # None: the last model against each of the others
    about: dict[str, Any] = field(default_factory=dict)


def run_perplexity(job: PerplexityJob, console: Console, destination: Callable[[str], Path] | None = None
                   ) -> dict[str, dict[str, Any]]:
    """Score every contestant on every set; return set name → results (and write the files with ``destination``)."""
    from medadapt.models.chat import load_chat_model
    from medadapt.models.templates import load_chat_template

    loaded: dict[str, tuple[list[Document], list[dict[str, Any]]]] = {}
    for spec in job.sets:
        documents, rejected = load_documents(spec.path, spec.format, spec.limit, job.system_prompts, job.base_dir)
        if not documents:
            raise DataError(f"no documents to score ({len(rejected)} rows rejected)", file=str(spec.path))
        loaded[spec.name] = (documents, rejected)
    template = load_chat_template(job.chat_template, job.base_dir) if job.chat_template else None
    scores: dict[str, dict[str, list[dict[str, Any]]]] = {spec.name: {} for spec in job.sets}
    timing: dict[str, dict[str, float]] = {spec.name: {} for spec in job.sets}
    for contestant in job.contestants:
        model, tokenizer = load_chat_model(contestant.reference, contestant.adapter, template,
                                           contestant.trust_remote_code)
        for spec in job.sets:
            documents, rejected = loaded[spec.name]
            started = time.perf_counter()
            rows, skipped = _score(model, tokenizer, documents, job, f"{spec.name} · {contestant.label}",
                                   str(spec.path))
            timing[spec.name][contestant.label] = round(time.perf_counter() - started, 2)
            scores[spec.name][contestant.label] = rows
            if skipped and contestant is job.contestants[0]:
                rejected += skipped
        del model  # free it before the next one loads
    results = {spec.name: _results(job, spec, loaded[spec.name], scores[spec.name], timing[spec.name], console)
               for spec in job.sets}
    if destination is not None and is_main():  # under a launch every process has the results; one writes
        for spec in job.sets:
            folder = destination(spec.name)
            folder.mkdir(parents=True, exist_ok=True)
            write_json(folder / "results.json", results[spec.name])
            write_jsonl(folder / "scores.jsonl", [{"model": label, **row}
                                                  for label, rows in scores[spec.name].items() for row in rows])
            write_jsonl(folder / "rejected.jsonl", loaded[spec.name][1])
    return results


def _score(model: Any, tokenizer: Any, documents: list[Document], job: PerplexityJob, label: str, file: str
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-document scores, and the documents that could not be scored as rejected rows."""
    from rich.progress import Progress

    from medadapt.evaluate.perplexity.scoring import document_sequences, model_max_length, score_sequences
    from medadapt.records.quarantine import rejection

    max_length = job.max_length or model_max_length(model, tokenizer)
    sequences, problems = document_sequences(tokenizer, documents, max_length)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with Progress(transient=False, disable=not is_main()) as progress:
        task = progress.add_task(label, total=len(sequences))
        totals = score_sequences(model, sequences, job.batch_size, pad, lambda n: progress.advance(task, n))
    rows = []
    for index, document in enumerate(documents):
        if index in problems or index not in totals:
            continue
        loglikelihood, tokens = totals[index]
        row = {"id": document.id, "source": document.source, "lang": document.lang, "kind": document.kind,
               "loglikelihood": loglikelihood, "tokens": tokens, "bytes": document.bytes, "words": document.words}
        rows.append({**row, "bits_per_byte": document_bits_per_byte(row)})
    skipped = [rejection(file, None, "messages", reason, {"id": documents[i].id}, stage="evaluate", step="perplexity",
                         rule="not_scored") for i, reason in sorted(problems.items())]
    return rows, skipped


def _results(job: PerplexityJob, spec: PerplexitySpec, loaded: tuple[list[Document], list[dict[str, Any]]],
             scores: dict[str, list[dict[str, Any]]], timing: dict[str, float], console: Console) -> dict[str, Any]:
    documents, rejected = loaded
    models = {}
    for label, rows in scores.items():
        if not rows:
            raise DataError(f"{spec.name}: no document could be scored by {label} (see rejected.jsonl)",
                            file=str(spec.path))
        models[label] = {**summarise(rows), "seconds": timing[label]}
        figures = models[label]
        console.print(f"{spec.name} · {label}: {figures['bits_per_byte']:.4f} bits per byte, byte perplexity "
                      f"{figures['byte_perplexity']:.4f}, word perplexity {figures['word_perplexity']:.2f} "
                      f"({figures['n']} documents, {figures['tokens']} tokens, {timing[label]} s)")
    labels = list(models)
    pairs = job.pairs if job.pairs is not None else [(labels[-1], other) for other in labels[:-1]]
    comparisons = [c for a, b in pairs if (c := paired(scores[a], scores[b], a, b)) is not None]
    for c in comparisons:
        console.print(f"{spec.name} · {c['a']} vs {c['b']}: bits per byte {c['bits_per_byte_a']:.4f} vs "
                      f"{c['bits_per_byte_b']:.4f} ({c['relative_change']:+.1%}); mean per-document difference "
                      f"{c['mean_difference']:+.4f} (95 % CI {c['ci95'][0]:+.4f} to {c['ci95'][1]:+.4f}, n={c['n']})")
    return {"set": spec.name, "path": str(spec.path), "format": spec.format, "kind": documents[0].kind,
            "documents": len(documents), "rejected": len(rejected), "model": job.model, **job.about,
            "max_length": job.max_length, "models": models, "paired": comparisons}


class PerplexityKind:
    """Perplexity in the evaluate stage: ``evaluate.perplexity``'s sets for every contestant asked directly,
    one folder each under ``<stage>/perplexity/``, every model paired with the base one; Q&A rendered with the
    recipe's chat template and the data stage's system prompts, as the model was trained."""

    name = "perplexity"
    every_process = True

    def configured(self, section: EvaluateSection) -> bool:
        return section.perplexity is not None

    def inputs(self, recipe: Recipe) -> dict[str, str]:
        return {f"perplexity.{s.name}": s.path for s in recipe.evaluate.perplexity.sets}

    def run(self, ctx: StageContext, contestants: list[Contestant], translator: OpenTranslator) -> dict[str, Any]:
        config: PerplexityConfig = ctx.recipe.evaluate.perplexity
        scored = [c for c in contestants if c.pipeline is None]
        labels = [c.label for c in scored]  # each model against the base one when it is scored (a before/after)
        pairs = [(label, "base") for label in labels if label != "base"] if "base" in labels else None
        job = PerplexityJob(
            model=ctx.recipe.model,
            sets=[PerplexitySpec(s.name, ctx.resolve(s.path), s.format, s.limit) for s in config.sets],
            contestants=scored, max_length=config.max_length, pairs=pairs,
            batch_size=config.batch_size, chat_template=ctx.recipe.chat_template,
            system_prompts=dict(ctx.recipe.data.system_prompt) if ctx.recipe.data else {}, base_dir=ctx.recipe_dir)
        results = run_perplexity(job, ctx.console, lambda name: ctx.out / "perplexity" / name)
        return {f"perplexity.{name}.{label}.bits_per_byte": round(figures["bits_per_byte"], 4)
                for name, result in results.items() for label, figures in result["models"].items()}
