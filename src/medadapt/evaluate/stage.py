"""The evaluate stage: each kind of evaluation the recipe asks for (multiple choice, free-form), in turn, for
the same contestants: the base model, the trained one (before/after), other models the recipe names and every
translate-pipeline baseline.

Under ``accelerate launch`` / ``torchrun`` every process runs the stage (``every_process``): the kinds that
split their scoring (multiple choice, perplexity) run in all of them, each process scoring a share of the
batches, and the main process alone writes their files; the others (free-form answers and judging, which call
services) run in the main process while the rest wait."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from medadapt.evaluate.config import EvaluateSection, PipelineConfig
from medadapt.evaluate.freeform.run import FreeformKind
from medadapt.evaluate.kinds import Contestant, Kind
from medadapt.evaluate.mcqa.run import McqaKind
from medadapt.evaluate.perplexity.run import PerplexityKind
from medadapt.evaluate.report import write_report
from medadapt.evaluate.translator import Translator
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.processes import on_main
from medadapt.runs.stage import RunDir, Stage, StageContext
from medadapt.runs.outputs import trained_model

#: The kinds, in the order they run; a new kind is one more entry.
KINDS: tuple[Kind, ...] = (McqaKind(), FreeformKind(), PerplexityKind())


class EvaluateStage(Stage):
    name = "evaluate"
    summary = "benchmarks for the base and trained models, pipelines, free-form answers and judging."
    version = "3"
    every_process = True

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        section: EvaluateSection = recipe.evaluate
        paths = {label: resolve_path(reference, recipe_dir, run.root)
                 for kind in KINDS if kind.configured(section) for label, reference in kind.inputs(recipe).items()}
        if recipe.train:
            paths["trained"] = run.stage_dir("train")
        paths |= {f"models.{m.name}.adapter": resolve_path(m.adapter, recipe_dir, run.root)
                  for m in section.models if m.adapter}
        return paths

    def _contestants(self, ctx: StageContext) -> list[Contestant]:
        """The base model (unless only the trained one is wanted), the trained one, the other models, then each
        pipeline."""
        section: EvaluateSection = ctx.recipe.evaluate
        trust = ctx.recipe.trust_remote_code
        contestants: list[Contestant] = []
        if section.compare_base or not ctx.recipe.train:
            contestants.append(Contestant("base", ctx.recipe.model, trust_remote_code=trust))
        if ctx.recipe.train:
            contestants.append(Contestant("trained", *trained_model(ctx.run.stage_dir("train"), ctx.recipe.model),
                                          trust_remote_code=trust))
        contestants += [Contestant(m.name, m.model, ctx.resolve(m.adapter) if m.adapter else None,
                                   trust_remote_code=trust) for m in section.models]
        return contestants + [Contestant(f"pipeline:{p.name}", p.model, pipeline=p, trust_remote_code=trust)
                              for p in section.pipelines]

    def run(self, ctx: StageContext) -> dict[str, Any]:
        def translator(pipeline: PipelineConfig) -> Translator:
            """A pipeline's translator; its cache lives in the stage's state folder, so re-runs send nothing twice."""
            prompts = ctx.resolve(pipeline.prompts) if pipeline.prompts else None
            return Translator(pipeline, ctx.run.state_dir(self.name) / f"pipeline-{pipeline.name}.sqlite",
                              ctx.recipe.model, ctx.recipe_dir, prompts, ctx.recipe.trust_remote_code)

        section: EvaluateSection = ctx.recipe.evaluate
        contestants = self._contestants(ctx)
        summary: dict[str, Any] = {}
        for kind in KINDS:
            if kind.configured(section):
                run = partial(kind.run, ctx, contestants, translator)
                summary |= run() if kind.every_process else on_main(run)
        on_main(lambda: write_report(ctx.out))
        return summary
