"""The generate stage: tasks over input records → ``generate/<task>.jsonl``, ``rejected.jsonl``,
``stats.json``, ``review/`` and ``cache.sqlite`` (a snapshot of the request cache).

The live cache is ``runs/<name>/generate-state/cache.sqlite``, outside the stage's temporary folder: the
runner clears an unfinished stage's folder before running it again, and a job killed after a day must not
pay for its answers twice. A re-run rebuilds every output from the cache and asks only what is missing.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from medadapt.data.jsonl import read_records
from medadapt.data.records import RECORD_KINDS, Record
from medadapt.generate.backend import Backend
from medadapt.generate.cache import RequestCache
from medadapt.generate.client import Budget, Client
from medadapt.generate.config import BackendConfig, GenerateSection, TranslateTask
from medadapt.generate.errors import BudgetReached, GenerateError
from medadapt.generate.pricing import price_for
from medadapt.generate.runner import finish_task, run_task
from medadapt.generate.streams import Streams
from medadapt.generate.tasks import TASKS
from medadapt.generate.tasks.base import TaskEnv
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.stage import RunDir, Stage, StageContext



def backend_model(recipe: Recipe) -> str:
    return recipe.generate.backend.model or recipe.model


def in_languages(records: list[Record], languages: list[str] | None) -> tuple[list[Record], Counter]:
    """The records in ``languages`` (all when None), and how many of each other language were left out."""
    if languages is None:
        return records, Counter()
    return [r for r in records if r.lang in languages], Counter(r.lang for r in records if r.lang not in languages)


def make_backend(config: BackendConfig, model: str, chat_template: str | None, recipe_dir: Path) -> Backend:
    """The configured backend; the API key is read here from the environment and kept only in memory."""
    if config.in_process:
        from medadapt.models.templates import load_chat_template

        template = load_chat_template(chat_template, recipe_dir) if chat_template else None
        if config.kind == "vllm":
            from medadapt.generate.vllm_backend import VLLMBackend

            return VLLMBackend(model, config.batch_size, template)
        from medadapt.generate.local_backend import LocalBackend

        return LocalBackend(model, config.batch_size, template)
    from medadapt.generate.http_backend import OpenAIBackend

    api_key = None
    if config.api_key_env:
        api_key = os.environ.get(config.api_key_env)
        if not api_key:
            raise GenerateError(f"environment variable {config.api_key_env} is not set (it holds the API key)",
                                field="generate.backend.api_key_env")
    return OpenAIBackend(config, api_key)


class GenerateStage(Stage):
    name = "generate"

    def __init__(self, budget: Budget | None = None):
        self.budget = budget or Budget()

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"generate": recipe.generate.model_dump(mode="json"), "model": backend_model(recipe),
                "chat_template": recipe.chat_template, "seed": recipe.seed}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        section: GenerateSection = recipe.generate
        paths = {f"{t.output_name}.input": resolve_path(t.input, recipe_dir, run.root) for t in section.tasks}
        for task in section.tasks:
            if isinstance(task, TranslateTask) and task.review and task.review.decisions:
                paths[f"{task.output_name}.review"] = resolve_path(task.review.decisions, recipe_dir, run.root)
        if section.prompts:
            paths["prompts"] = resolve_path(section.prompts, recipe_dir, run.root)
        return paths

    def run(self, ctx: StageContext) -> dict[str, Any]:
        section: GenerateSection = ctx.recipe.generate
        model = backend_model(ctx.recipe)
        cache = RequestCache(ctx.run.state_dir(self.name) / "cache.sqlite")
        try:
            with ctx.console.status(f"starting the {section.backend.kind} backend ({model})…"):
                backend = make_backend(section.backend, model, ctx.recipe.chat_template, ctx.recipe_dir)
            client = Client(backend, cache, price_for(section.backend, model), self.budget)
            stats = asyncio.run(self._run_tasks(ctx, section, client))
            cache.snapshot(ctx.out / "cache.sqlite")
            stats["cache_entries"] = len(cache)
        finally:
            cache.close()
        (ctx.out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False), encoding="utf-8")
        usage = stats["requests"]
        ctx.console.print(f"requests: {usage['requests_sent']} sent, {usage['requests_cached']} from the cache, "
                          f"{usage['requests_failed']} failed; {usage['cost_usd']:.4f} USD")
        left = sum(t["left_for_next_run"] for t in stats["tasks"].values())
        if left:
            raise BudgetReached(f"budget spent with {left} items left; every answer so far is stored in "
                                f"{cache.path}: run again to continue")
        failed = sum(t["failed"] for t in stats["tasks"].values())
        if failed:
            first = next(f for t in stats["tasks"].values() for f in t["failures"])
            raise GenerateError(f"{failed} items failed after retries (first: {first}); run again to retry them")
        return {"requests_sent": usage["requests_sent"], "requests_cached": usage["requests_cached"],
                **{name: t["written"] for name, t in stats["tasks"].items()}}

    async def _run_tasks(self, ctx: StageContext, section: GenerateSection, client: Client) -> dict[str, Any]:
        streams = Streams(ctx.out)
        streams.append("rejected", [])  # the file exists even when nothing is rejected
        prompts_dir = ctx.resolve(section.prompts) if section.prompts else None
        workers = 2 * (section.backend.batch_size if section.backend.in_process else section.backend.concurrency)
        tasks: dict[str, Any] = {}
        try:
            for config in section.tasks:
                env = TaskEnv(client, prompts_dir, section.max_new_tokens, section.temperature, config.input,
                              ctx.resolve, ctx.recipe.seed)
                task = TASKS[config.task](config, env)
                read = read_records(ctx.resolve(config.input), RECORD_KINDS[task.record_kind], stage="generate")
                if read.rejected:
                    streams.append("rejected", read.rejected)
                records, skipped = in_languages(read.records, config.languages)
                records = records[: config.limit] if config.limit else records
                counts = await run_task(task, records, streams, workers, ctx.console)
                finish_task(task, records, streams, counts, ctx.out)
                counts.skipped_languages = skipped
                if read.rejected:
                    counts.rejected += len(read.rejected)
                    counts.rejected_by["read: invalid record"] = len(read.rejected)
                tasks[task.name] = {"task": config.task, **counts.as_dict(), **task.notes}
                left_out = ", ".join(f"{lang} {n}" for lang, n in sorted(skipped.items()))
                ctx.console.print(f"{task.name}: {counts.items} items → {counts.written}, {counts.rejected} rejected"
                                  + (f"; not in languages, left out: {left_out}" if skipped else ""))
        finally:
            streams.close()
            await client.backend.aclose()
        return {"backend": client.backend.kind, "model": client.backend.model,
                "requests": client.usage.as_dict(), "tasks": tasks}
