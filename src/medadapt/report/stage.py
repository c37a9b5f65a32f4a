"""The report stage: assembled from what the other stages left; no stage writes HTML itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.recipe import Recipe
from medadapt.report.collect import collect
from medadapt.report.render import render_report
from medadapt.runs.stage import RunDir, Stage, StageContext

STAGE_FILES = ("data/stats.json", "train/summary.json", "train/log.jsonl", "evaluate")


class ReportStage(Stage):
    name = "report"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"report": recipe.report.model_dump(mode="json") if recipe.report else None}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        return {name: run.root / name for name in STAGE_FILES if (run.root / name).exists()}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        context = collect(ctx.run)
        context["title"] = (ctx.recipe.report and ctx.recipe.report.title) or f"medadapt run: {ctx.recipe.name}"
        context["recipe"] = ctx.recipe
        written = render_report(context, ctx.out)
        return {"files": [p.name for p in written]}
