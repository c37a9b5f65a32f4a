"""Run the steps in order over all documents, checkpointing after each, and collect per-step counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medadapt.curate.checkpoint import Checkpoint
from medadapt.curate.engine import Engine, InProcess
from medadapt.curate.records import Doc
from medadapt.curate.steps import Step


@dataclass
class PipelineResult:
    kept: list[Doc]
    rejected: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)


def by_lang(langs_in: Counter[str], langs_out: Counter[str], removed: Counter[str]) -> dict[str, dict[str, int]]:
    """``{lang: {in, out, removed}}`` for one step; ``in - removed`` differs from ``out`` only where the
    language step relabelled documents (it counts them under the language they leave with)."""
    return {lang: {"in": langs_in[lang], "out": langs_out[lang], "removed": removed[lang]}
            for lang in sorted(langs_in | langs_out)}


def run_pipeline(
    docs: list[Doc],
    steps: list[Step],
    checkpoint: Checkpoint,
    stage: str = "curate",
    on_step: Callable[[dict[str, Any], bool], None] = lambda summary, resumed: None,
    engine: Engine | None = None,
) -> PipelineResult:
    """Apply ``steps`` in order; a step finished in an earlier, interrupted run is taken from the checkpoint."""
    engine = engine or InProcess()
    result = PipelineResult(docs)
    previous: tuple[int, str] | None = None
    for index, step in enumerate(steps):
        summary = checkpoint.done(index, step.name)
        if summary is not None:
            result.rejected += checkpoint.rejected(index, step.name)
            result.steps.append(summary)
            on_step(summary, True)
            previous = (index, step.name)
            continue
        if previous is not None and result.kept is docs:
            result.kept = checkpoint.kept(*previous)  # resuming: pick up the last finished step's survivors
        langs_in = Counter(doc.lang for doc in result.kept)  # before the step: the language step relabels
        outcome = engine.apply(step, result.kept, checkpoint.work_dir(index, step.name))
        rejected = [r.to_json(stage) for r in outcome.rejected]
        summary = {
            "step": step.name,
            "in": len(result.kept),
            "out": len(outcome.kept),
            "removed": len(rejected),
            "by_rule": dict(Counter(r["rule"] for r in rejected)),
            "counters": outcome.counters,
            "by_lang": by_lang(langs_in, Counter(doc.lang for doc in outcome.kept),
                               Counter(r.doc.lang for r in outcome.rejected)),
        }
        checkpoint.save(index, step.name, outcome.kept, rejected, summary, previous)
        result.kept, previous = outcome.kept, (index, step.name)
        result.rejected += rejected
        result.steps.append(summary)
        on_step(summary, False)
    if previous is not None and result.kept is docs:
        result.kept = checkpoint.kept(*previous)  # every step had finished before the interruption
    return result
