"""One run of the crawl stage: the fixture site if asked, the frontier resumed, pages fetched, files exported.

Kept apart from :mod:`medadapt.crawl.stage` so that listing the road does not import the HTTP and parsing
libraries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from medadapt.crawl.adapters import SiteAdapter, adapter_digest
from medadapt.crawl.crawler import Crawler
from medadapt.crawl.outputs import export, print_summary
from medadapt.crawl.reextract import re_extract
from medadapt.crawl.section import CrawlSection
from medadapt.crawl.sites import load_sites
from medadapt.crawl.state import CrawlState
from medadapt.crawl.warc import WarcStore
from medadapt.runs.stage import StageContext


def run_crawl_stage(ctx: StageContext, re_extract_only: bool) -> dict[str, Any]:
    """Crawl (or only re-extract), then export; the stage's work, imported only when it runs."""
    section: CrawlSection = ctx.recipe.crawl
    state_dir = ctx.run.state_dir("crawl")
    state = CrawlState(state_dir / "frontier.sqlite")
    with ExitStack() as stack:
        stack.callback(state.close)
        fixture_base = None
        if section.fixture_site and not re_extract_only:
            fixture_base = stack.enter_context(_fixture_site(section, state))
            ctx.console.print(f"fixture site serving on {fixture_base}")
        sites, budgets = load_sites(section, ctx.recipe_dir, fixture_base)
        if not re_extract_only:
            _follow_moved_sites(state, sites, ctx)
        warc = WarcStore(state_dir / "warc", state.committed_warc_ends())
        stack.callback(warc.close)
        started = time.perf_counter()
        if re_extract_only:
            session = {"mode": "re-extract", **re_extract(state, warc, sites)}
            _remember_adapters(state, sites)
        else:
            session = _crawl_session(section, sites, budgets, state, warc, ctx)
        seconds = time.perf_counter() - started
        session["seconds"] = round(seconds, 2)
        session["pages_per_second"] = round(session.get("fetched", 0) / seconds, 1) if seconds else None
        stats = export(state, ctx.out, session)
    print_summary(ctx.console, stats)
    ctx.console.print(f"{stats['qa']} Q&A, {stats['articles']} articles, {stats['failures']} failures with reasons "
                      f"(crawl/failures.jsonl); frontier and WARC: {state_dir}")
    return {key: stats[key] for key in ("qa", "articles", "failures", "fetched", "pending")}


@contextmanager
def _fixture_site(section: CrawlSection, state: CrawlState) -> Iterator[str]:
    """The bundled site in a child process, on last run's port when it is free (else any; URLs follow)."""
    from medadapt.crawl.fixtures import fixture_process

    with ExitStack() as stack:
        last_port = int(state.get("fixture_port") or 0)
        try:
            base = stack.enter_context(fixture_process(section.fixture_variant, port=last_port))
        except RuntimeError:
            if not last_port:
                raise
            base = stack.enter_context(fixture_process(section.fixture_variant))
        state.set("fixture_port", base.rsplit(":", 1)[1])
        yield base


def _follow_moved_sites(state: CrawlState, sites: dict[str, SiteAdapter], ctx: StageContext) -> None:
    for name, adapter in sites.items():
        previous = state.get(f"base_url:{name}")
        if previous and previous != adapter.base_url:
            moved = state.rebase(name, previous, adapter.base_url)
            ctx.console.print(f"{name}: now served from {adapter.base_url}; {moved} known URLs moved there")
        state.set(f"base_url:{name}", adapter.base_url)


def _remember_adapters(state: CrawlState, sites: dict[str, SiteAdapter]) -> None:
    for name, adapter in sites.items():
        state.set(f"adapter:{name}", adapter_digest(adapter))


def _crawl_session(section: CrawlSection, sites: dict[str, SiteAdapter], budgets: dict[str, int],
                   state: CrawlState, warc: WarcStore, ctx: StageContext) -> dict[str, Any]:
    """Re-read stored pages of sites whose adapter changed, then crawl on from the frontier."""
    changed = {name: a for name, a in sites.items() if state.get(f"adapter:{name}") not in (None, adapter_digest(a))}
    if changed:  # selectors changed since these pages were read: read them again from the WARC
        redone = re_extract(state, warc, changed)
        ctx.console.print(f"adapters changed ({', '.join(changed)}): {redone['re_extracted_pages']} stored pages "
                          "extracted again")
    _remember_adapters(state, sites)
    crawler = Crawler(section, sites, budgets, state, warc, ctx.console)
    counts = asyncio.run(crawler.run())
    return {"mode": "crawl", "fetched": counts.fetched, "failed": counts.failed, "refused": counts.refused,
            "left_over_budget": counts.over_budget, "links_beyond_max_depth": counts.beyond_depth,
            "links_off_site": counts.off_site, "requests": crawler.fetcher.requests,
            "decoding_notes": dict(counts.decoding_notes)}
