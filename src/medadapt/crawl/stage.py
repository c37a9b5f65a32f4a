"""The crawl stage: sites (adapters) → ``crawl/qa.jsonl``, ``articles.jsonl``, ``failures.jsonl``, ``stats.json``.

The frontier (SQLite) and the raw responses (WARC) live in ``runs/<name>/crawl-state/``, outside the
stage's output folder: the runner clears an unfinished stage's temporary folder before running it again,
and a crawl killed after a day must go on from where it stopped, not start over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.crawl.adapters import SiteAdapter, adapter_file, load_adapter
from medadapt.crawl.section import CrawlSection, SiteRef
from medadapt.errors import RecipeError
from medadapt.recipe import Recipe
from medadapt.resources import resource_path
from medadapt.runs.stage import RunDir, Stage, StageContext

FIXTURE_ADAPTERS = ("fixture-forum", "fixture-magazine")


def site_refs(section: CrawlSection) -> list[SiteRef]:
    """The recipe's sites, plus the bundled fixture's two sites when ``fixture_site`` is on."""
    refs = list(section.sites)
    if section.fixture_site:
        refs += [SiteRef(adapter=name) for name in FIXTURE_ADAPTERS if name not in {r.adapter for r in refs}]
    return refs


def load_sites(section: CrawlSection, recipe_dir: Path,
               fixture_base: str | None) -> tuple[dict[str, SiteAdapter], dict[str, int]]:
    """Adapters by site name (with base URL overrides) and each site's page budget."""
    sites: dict[str, SiteAdapter] = {}
    budgets: dict[str, int] = {}
    for ref in site_refs(section):
        adapter = load_adapter(adapter_file(ref.adapter, recipe_dir))
        base = ref.base_url or (fixture_base if ref.adapter in FIXTURE_ADAPTERS else None)
        adapter = adapter.with_base_url(base)
        if adapter.name in sites:
            raise RecipeError("crawl", [f"crawl.sites: site {adapter.name!r} is listed twice"])
        sites[adapter.name] = adapter
        budgets[adapter.name] = ref.max_pages or section.max_pages_per_site
    return sites, budgets


class CrawlStage(Stage):
    name = "crawl"

    def __init__(self, re_extract: bool = False):
        self.re_extract = re_extract

    def config(self, recipe: Recipe) -> dict[str, Any]:
        section = recipe.crawl
        return {"crawl": section.model_dump(mode="json")}

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
