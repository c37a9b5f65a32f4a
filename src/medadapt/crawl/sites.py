"""The recipe's sites: its adapters (plus the bundled fixture's two with ``fixture_site``), each with its base
URL override and page budget. Read by the stage (its inputs) and by the crawl session (what to fetch)."""

from __future__ import annotations

from pathlib import Path

from medadapt.crawl.adapters import SiteAdapter, adapter_file, load_adapter
from medadapt.crawl.section import CrawlSection, SiteRef
from medadapt.errors import RecipeError

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
