"""The crawl stage: sites (adapters) → ``crawl/qa.jsonl``, ``articles.jsonl``, ``failures.jsonl``, ``stats.json``.

The frontier (SQLite) and the raw responses (WARC) live in ``runs/<name>/crawl-state/``, outside the
stage's output folder: the runner clears an unfinished stage's temporary folder before running it again,
and a crawl killed after a day must go on from where it stopped, not start over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.crawl.adapters import adapter_file
from medadapt.crawl.sites import site_refs
from medadapt.recipe import Recipe
from medadapt.resources import resource_path
from medadapt.runs.stage import RunDir, Stage, StageContext


class CrawlStage(Stage):
    name = "crawl"
    summary = "polite, resumable crawl of the recipe's sites (kill it any time; rerun resumes)."

    def __init__(self, re_extract: bool = False):
        self.re_extract = re_extract


    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        """Adapter files (a changed selector re-runs the stage) and, for the fixture site, the demo data it serves."""
        section = recipe.crawl
        paths = {f"adapter.{ref.adapter}": adapter_file(ref.adapter, recipe_dir) for ref in site_refs(section)}
        if section.fixture_site:
            paths |= {f"fixture.{name}": resource_path(f"demo/{name}") for name in ("qa.jsonl", "articles.jsonl")}
        return paths

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from medadapt.crawl.session import run_crawl_stage

        return run_crawl_stage(ctx, self.re_extract)
