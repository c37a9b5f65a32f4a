"""The evaluate stage: each kind of evaluation the recipe asks for (multiple choice, free-form), in turn, for
the same contestants: the base model, the trained one (before/after), other models the recipe names and every
translate-pipeline baseline."""

from __future__ import annotations

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
from medadapt.runs.stage import RunDir, Stage, StageContext
from medadapt.runs.outputs import trained_model

#: The kinds, in the order they run; a new kind is one more entry.
KINDS: tuple[Kind, ...] = (McqaKind(), FreeformKind(), PerplexityKind())


class EvaluateStage(Stage):
    name = "evaluate"
    summary = "benchmarks for the base and trained models, pipelines, free-form answers and judging."
    version = "3"

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        section: EvaluateSection = recipe.evaluate
        paths = {label: resolve_path(reference, recipe_dir, run.root)
                 for kind in KINDS if kind.configured(section) for label, reference in kind.inputs(recipe).items()}
        if recipe.train:
            paths["trained"] = run.stage_dir("train")
        paths |= {f"models.{m.name}.adapter": resolve_path(m.adapter, recipe_dir) for m in section.models if m.adapter}
        return paths

    def _contestants(self, ctx: StageContext) -> list[Contestant]:
        """The base model (unless only the trained one is wanted), the trained one, the other models, then each
        pipeline."""
        section: EvaluateSection = ctx.recipe.evaluate
        contestants: list[Contestant] = []
        if section.compare_base or not ctx.recipe.train:
            contestants.append(Contestant("base", ctx.recipe.model))
        if ctx.recipe.train:
            contestants.append(Contestant("trained", *trained_model(ctx.run.stage_dir("train"), ctx.recipe.model)))
        contestants += [Contestant(m.name, m.model, ctx.resolve(m.adapter) if m.adapter else None)
                        for m in section.models]
        return contestants + [Contestant(f"pipeline:{p.name}", p.model, pipeline=p) for p in section.pipelines]

    def run(self, ctx: StageContext) -> dict[str, Any]:
        def translator(pipeline: PipelineConfig) -> Translator:
            """A pipeline's translator; its cache lives in the stage's state folder, so re-runs send nothing twice."""
            prompts = ctx.resolve(pipeline.prompts) if pipeline.prompts else None
            return Translator(pipeline, ctx.run.state_dir(self.name) / f"pipeline-{pipeline.name}.sqlite",
                              ctx.recipe.model, ctx.recipe_dir, prompts)

        section: EvaluateSection = ctx.recipe.evaluate
        contestants = self._contestants(ctx)
        summary: dict[str, Any] = {}
        for kind in KINDS:
            if kind.configured(section):
                summary |= kind.run(ctx, contestants, translator)
        write_report(ctx.out)
        return summary
