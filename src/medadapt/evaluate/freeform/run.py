"""The evaluate stage's free-form part: every model answers the held-out questions (timed), then the judge
compares models pairwise and checks answers against K-QA's statements, as ``evaluate.freeform`` asks.

Writes ``<stage>/freeform/``: answers.jsonl, latency.json, rejected.jsonl and, per check, judgements.jsonl +
judge.json and kqa.jsonl + kqa.json. Answers and judge replies live in ``runs/<name>/evaluate-state/freeform/``
(answers.jsonl, judge-cache.sqlite), outside the stage's temporary folder, so a killed or failed run
resumes without answering or asking anything twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medadapt.records.jsonl import write_json, write_jsonl
from medadapt.errors import DataError, RecipeError
from medadapt.evaluate.freeform.answers import (Answerer, LocalAnswerer, PipelineAnswerer, answer_questions,
                                                latency_summary, load_questions)
from medadapt.evaluate.freeform.config import FreeformConfig
from medadapt.evaluate.freeform.judge import (JudgePrompts, judge_about, judge_pair, pairwise_failures,
                                              raise_if_failed, run_judge, write_pairwise)
from medadapt.evaluate.freeform.kqa import check_answers, statement_failures, write_kqa
from medadapt.evaluate.kinds import Contestant, OpenTranslator
from medadapt.runs.stage import StageContext

if TYPE_CHECKING:
    from medadapt.evaluate.config import EvaluateSection, PipelineConfig
    from medadapt.recipe import Recipe


def judged_pairs(labels: list[str], configured: list[tuple[str, str]] | None, recipe_file: str) -> list[tuple[str, str]]:
    """The configured [A, B] pairs, or the last model (the one being built) against each of the others."""
    pairs = configured if configured is not None else [(labels[-1], other) for other in labels[:-1]]
    unknown = sorted({label for pair in pairs for label in pair} - set(labels))
    if unknown:
        raise RecipeError(recipe_file, [f"evaluate.freeform.judge.pairs: no model labelled {', '.join(unknown)} "
                                        f"(models: {', '.join(labels)})"])
    if not pairs:
        raise RecipeError(recipe_file, ["evaluate.freeform.checks: pairwise needs two models (set "
                                        "evaluate.compare_base: true, or add a pipeline)"])
    return pairs


def run_freeform(ctx: StageContext, models: Sequence[tuple[str, str, Path | None]], config: FreeformConfig,
                 extra_answerers: Sequence[Callable[[], Answerer]] = ()) -> dict[str, Any]:
    """Answer, time and judge; return the figures for the stage's manifest summary.

    ``models`` are (label, model reference, adapter) of the contestants asked directly; each is loaded
    only while it answers. ``extra_answerers`` make other answerers (a translate pipeline) the same way."""
    from medadapt.models.templates import load_chat_template

    out = ctx.out / "freeform"
    out.mkdir(parents=True, exist_ok=True)
    state = ctx.run.state_dir("evaluate") / "freeform"
    questions_file = ctx.resolve(config.questions)
    records, rejected = load_questions(questions_file, config.format, config.limit, ctx.recipe_dir)
    if not records:
        raise DataError(f"no questions to answer ({len(rejected)} rows rejected)", file=str(questions_file))
    chat = ctx.recipe.chat
    template = load_chat_template(ctx.recipe.chat_template, ctx.recipe_dir) if ctx.recipe.chat_template else None
    makers = [partial(LocalAnswerer.load, label, reference, adapter, max_new_tokens=config.max_new_tokens,
                      system_prompt=chat.system_prompt, repetition_penalty=chat.repetition_penalty,
                      chat_template=template, trust_remote_code=ctx.recipe.trust_remote_code)
              for label, reference, adapter in models] + list(extra_answerers)

    answers: dict[str, list[dict[str, Any]]] = {}
    for make in makers:
        answerer = make()
        if answerer.label in answers:
            raise RecipeError(str(ctx.run.recipe_path), [f"evaluate: two models labelled {answerer.label!r}"])
        try:
            answers[answerer.label] = answer_questions(answerer, records, state / "answers.jsonl", ctx.console)
        finally:
            getattr(answerer, "close", lambda: None)()
        del answerer  # free the model before the next one loads
    every_answer = [row for rows in answers.values() for row in rows]
    write_jsonl(out / "answers.jsonl", every_answer)
    latency = latency_summary(every_answer)
    write_json(out / "latency.json", latency)
    summary: dict[str, Any] = {}
    for label, figures in latency.items():
        summary[f"freeform.{label}.mean_ttft_s"] = figures["mean_ttft_s"]
        summary[f"freeform.{label}.tokens_per_s"] = figures["tokens_per_s"]
        ctx.console.print(f"free-form · {label}: {figures['n']} answers, TTFT {figures['mean_ttft_s']} s (mean), "
                          f"{figures['tokens_per_s']} tokens/s, {figures['mean_wall_s']} s per answer")

    if config.checks:
        summary |= _judge(ctx, config, answers, every_answer, out, state, rejected)
    write_jsonl(out / "rejected.jsonl", rejected)
    return summary


def _judge(ctx: StageContext, config: FreeformConfig, answers: dict[str, list[dict[str, Any]]],
           every_answer: list[dict[str, Any]], out: Path, state: Path, rejected: list[dict[str, Any]]) -> dict[str, Any]:
    """The configured checks with one judge session; raises after writing the outputs when requests failed
    (a re-run retries only those)."""
    judge = config.judge
    pairs = judged_pairs(list(answers), judge.pairs, str(ctx.run.recipe_path)) if "pairwise" in config.checks else []
    prompts = JudgePrompts(ctx.resolve(judge.prompts) if judge.prompts else None, judge.prompt_lang)

    async def work(client):
        judged = {(a, b): await judge_pair(client, prompts, answers[a], answers[b], judge.max_new_tokens)
                  for a, b in pairs}
        checked = (await check_answers(client, prompts, every_answer, judge.max_new_tokens, "answers.jsonl")
                   if "kqa" in config.checks else None)
        return judged, checked

    with ctx.console.status(f"judging with {judge.backend.model or ctx.recipe.model}…"):
        (judged, checked), usage = run_judge(judge.backend, ctx.recipe.model, ctx.recipe_dir,
                                             state / "judge-cache.sqlite", work)
    about = judge_about(judge.backend, judge.backend.model or ctx.recipe.model, prompts, usage)
    summary: dict[str, Any] = {}
    failed: list[str] = []
    if "pairwise" in config.checks:
        results = write_pairwise(out, judged, about)
        failed += [f for rows in judged.values() for f in pairwise_failures(rows)]
        for (a, b), result in zip(pairs, results.values()):
            summary[f"freeform.{a}_vs_{b}.win_rate"] = result["win_rate"]
            ctx.console.print(f"judge · {a} vs {b}: {result['wins']} wins, {result['ties']} ties, {result['losses']} "
                              f"losses; win rate {result['win_rate']} (95 % CI {result['win_rate_ci95']}); "
                              f"{result['verdicts']['unparsable']} unparsable verdicts")
    if checked is not None:
        rows, bad = checked
        rejected += bad
        models = write_kqa(out, rows, bad, about)
        failed += statement_failures(rows)
        for label, figures in models.items():
            summary[f"freeform.{label}.kqa_comprehensiveness"] = figures["comprehensiveness"]["mean"]
            summary[f"freeform.{label}.kqa_hallucination_rate"] = figures["hallucination_rate"]["mean"]
            ctx.console.print(f"K-QA · {label}: comprehensiveness {figures['comprehensiveness']['mean']}, "
                              f"hallucination rate {figures['hallucination_rate']['mean']} "
                              f"({figures['answers_checked']} answers)")
    raise_if_failed(failed)
    return summary


class FreeformKind:
    """Free-form answers in the evaluate stage: every contestant answers ``evaluate.freeform``'s questions,
    a pipeline through its translator; outputs in ``<stage>/freeform/``."""

    name = "freeform"
    every_process = False

    def configured(self, section: EvaluateSection) -> bool:
        return section.freeform is not None

    def inputs(self, recipe: Recipe) -> dict[str, str]:
        config: FreeformConfig = recipe.evaluate.freeform
        references = {"freeform.questions": config.questions}
        if config.judge and config.judge.prompts:
            references["freeform.prompts"] = config.judge.prompts
        return references

    def run(self, ctx: StageContext, contestants: list[Contestant], translator: OpenTranslator) -> dict[str, Any]:
        config: FreeformConfig = ctx.recipe.evaluate.freeform
        chat = ctx.recipe.chat

        def through(label: str, pipeline: PipelineConfig) -> Callable[[], Answerer]:
            def make() -> Answerer:
                inner = LocalAnswerer.load(label, pipeline.model, None, max_new_tokens=config.max_new_tokens,
                                           system_prompt=chat.system_prompt, repetition_penalty=chat.repetition_penalty)
                return PipelineAnswerer(label, inner, translator(pipeline))
            return make

        direct = [(c.label, c.reference, c.adapter) for c in contestants if c.pipeline is None]
        pipelines = [through(c.label, c.pipeline) for c in contestants if c.pipeline is not None]
        return run_freeform(ctx, direct, config, pipelines)
