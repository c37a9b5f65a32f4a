"""The generate stage: tasks over input records → ``generate/<task>.jsonl``, ``rejected.jsonl``,
``stats.json``, ``review/`` and ``cache.sqlite`` (a snapshot of the request cache).

The live cache is ``runs/<name>/generate-state/cache.sqlite``, outside the stage's temporary folder: the
runner clears an unfinished stage's folder before running it again, and a job killed after a day must not
pay for its answers twice. A re-run rebuilds every output from the cache and asks only what is missing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from medadapt.records.importers import import_file
from medadapt.records.kinds import Record
from medadapt.generate.config import GenerateSection, JudgeTask, TranslateTask
from medadapt.generate.errors import GenerateError
from medadapt.generate.runner import finish_task, run_task
from medadapt.generate.streams import Streams
from medadapt.generate.tasks import TASKS
from medadapt.generate.tasks.base import TaskEnv
from medadapt.llm.cache import RequestCache
from medadapt.llm.client import Budget, Client
from medadapt.llm.errors import BudgetReached
from medadapt.llm.factory import make_backend
from medadapt.llm.pricing import price_for
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.stage import RunDir, Stage, StageContext
from medadapt.records.jsonl import write_json



def backend_model(recipe: Recipe) -> str:
    return recipe.generate.backend.model or recipe.model


def in_languages(records: list[Record], languages: list[str] | None) -> tuple[list[Record], Counter]:
    """The records in ``languages`` (all when None), and how many of each other language were left out."""
    if languages is None:
        return records, Counter()
    return [r for r in records if r.lang in languages], Counter(r.lang for r in records if r.lang not in languages)


class GenerateStage(Stage):
    name = "generate"
    summary = ("LLM-made data (translate, expand, qa_generate, judge, conversation), cached per request; kill it "
               "any time, rerun resumes.")

    def __init__(self, budget: Budget | None = None):
        self.budget = budget or Budget()


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
                backend = make_backend(section.backend, model, ctx.recipe.chat_template, ctx.recipe_dir,
                                       ctx.recipe.trust_remote_code)
            client = Client(backend, cache, price_for(section.backend, model), self.budget)
            stats = asyncio.run(self._run_tasks(ctx, section, client))
            cache.snapshot(ctx.out / "cache.sqlite")
            stats["cache_entries"] = len(cache)
        finally:
            cache.close()
        write_json(ctx.out / "stats.json", stats)
        usage = stats["requests"]
        ctx.console.print(f"requests: {usage['requests_sent']} sent, {usage['requests_cached']} from the cache, "
                          f"{usage['requests_failed']} failed; {usage['cost_usd']:.4f} USD")
        for url, counts in stats["endpoints"].items():
            ctx.console.print(f"  {url}: {counts['answered']} answered, {counts['failed']} failed attempts, "
                              f"taken out of rotation {counts['taken_out']}×")
        left = sum(t["left_for_next_run"] for t in stats["tasks"].values())
        if left:
            raise BudgetReached(f"budget spent with {left} items left; every answer so far is stored in "
                                f"{cache.path}: run again to continue")
        failed = sum(t["failed"] for t in stats["tasks"].values())
        if failed:
            first = next(f for t in stats["tasks"].values() for f in t["failures"])
            raise GenerateError(f"{failed} items failed after retries (first: {first}); run again to retry them")
        answered = {url: counts["answered"] for url, counts in stats["endpoints"].items()}
        return {"requests_sent": usage["requests_sent"], "requests_cached": usage["requests_cached"],
                **({"answered_by_endpoint": answered} if answered else {}),
                **{name: t["written"] for name, t in stats["tasks"].items()}}

    @staticmethod
    def _judge_clients(ctx: StageContext, config: JudgeTask, client: Client) -> list[Client]:
        """One client per judge, sharing the main client's cache, budget and usage counts."""
        clients = []
        for judge in config.judges or []:
            model = judge.model or ctx.recipe.model
            with ctx.console.status(f"starting the {judge.kind} judge ({model})…"):
                backend = make_backend(judge, model, ctx.recipe.chat_template, ctx.recipe_dir,
                                       ctx.recipe.trust_remote_code)
            clients.append(Client(backend, client.cache, price_for(judge, model), client.budget, client.usage))
        return clients

    async def _run_tasks(self, ctx: StageContext, section: GenerateSection, client: Client) -> dict[str, Any]:
        streams = Streams(ctx.out)
        streams.append("rejected", [])  # the file exists even when nothing is rejected
        prompts_dir = ctx.resolve(section.prompts) if section.prompts else None
        backend = section.backend
        workers = 2 * (backend.batch_size if backend.in_process else backend.concurrency * len(backend.base_urls))
        tasks: dict[str, Any] = {}
        opened: list[Client] = []  # judges' own clients, closed with the main one
        try:
            for config in section.tasks:
                env = TaskEnv(client, prompts_dir, section.max_new_tokens, section.temperature, config.input,
                              ctx.resolve, ctx.recipe.seed, section.prompt_set, say=ctx.console.print)
                if isinstance(config, JudgeTask) and config.judges:
                    env.judges = self._judge_clients(ctx, config, client)
                    opened.extend(env.judges)
                task = TASKS[config.task](config, env)
                read = import_file(ctx.resolve(config.input), task.record_kind, stage="generate")
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
            for other in opened:
                await other.backend.aclose()
            await client.backend.aclose()
        return {"backend": client.backend.kind, "model": client.backend.model, "requests": client.usage.as_dict(),
                "endpoints": client.backend.endpoint_counts(), "tasks": tasks}
