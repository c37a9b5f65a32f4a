"""The report stage: assembled from what the other stages left; no stage writes HTML itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.recipe import Recipe, recipe_hash
from medadapt.report.collect import collect
from medadapt.report.paper_table import load_paper, paper_table, shipped_papers
from medadapt.report.render import render_report, section_templates
from medadapt.runs.stage import RunDir, Stage, StageContext


class ReportStage(Stage):
    name = "report"
    summary = "the HTML and Markdown report from what the other stages left."

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        """Every earlier stage's folder: the report is re-made when any of them changes (none before the
        run's first stage: ``--plan`` on a new run)."""
        chosen = recipe.report.paper_table if recipe.report else None
        own_table = {"paper_table": recipe_dir / chosen} if chosen and chosen not in shipped_papers() else {}
        if not run.root.is_dir():
            return own_table
        return {**own_table, **{p.name: p for p in sorted(run.root.iterdir())
                                if p.is_dir() and not p.name.startswith(".") and p.name != self.name}}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        context = collect(ctx.run, section_templates())
        context["title"] = (ctx.recipe.report and ctx.recipe.report.title) or f"medadapt run: {ctx.recipe.name}"
        context["recipe"] = ctx.recipe
        chosen = ctx.recipe.report and ctx.recipe.report.paper_table
        context["paper_table"] = paper_table(load_paper(chosen, ctx.recipe_dir), context["report"].get("evaluate"),
                                             ctx.recipe.model) if chosen else None
        # the report prints the recipe's hash, so it depends on the whole recipe (read here, through the view)
        context["manifest"]["recipe_hash"] = recipe_hash(ctx.recipe)
        stage_dirs = {name: ctx.run.stage_dir(name) for name in context["plots"]}
        written = render_report(context, ctx.out, stage_dirs)
        return {"files": [p.name for p in written]}
