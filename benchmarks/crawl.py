"""Crawl speed on the loopback fixture site with politeness limits off: pages fetched and extracted per second.

Baseline: the throw-away script the Gaokerena authors describe — one request at a time (a sync httpx client,
keep-alive), breadth-first over the same links, the same extraction, nothing stored. Ours: medadapt's async
frontier (16 requests in flight, robots.txt checked, every page committed to SQLite and WARC as it comes).
The fixture site runs in a child process, so it does not share the crawler's interpreter.

    python benchmarks/crawl.py            # the forum's 150 questions ×20 (3000 Q&A pages) + magazine
    python benchmarks/crawl.py --quick    # ×4, a few seconds
Goal: ≥ 300 pages/s on 2 cores. The last line is ours in pages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import deque
from pathlib import Path

import httpx
from protego import Protego
from rich.console import Console
from rich.table import Table

from medadapt.crawl.crawler import Crawler
from medadapt.crawl.fixtures import fixture_process
from medadapt.crawl.pages import process_response
from medadapt.crawl.section import CrawlSection
from medadapt.crawl.sites import FIXTURE_ADAPTERS, load_sites
from medadapt.crawl.state import CrawlState
from medadapt.crawl.urls import normalize
from medadapt.crawl.warc import WarcStore


def politeness_off(base: str) -> CrawlSection:
    return CrawlSection(sites=[{"adapter": name, "base_url": base} for name in FIXTURE_ADAPTERS],
                        per_host_delay=0, concurrency=16, per_host_concurrency=16, max_pages_per_site=10**6)


def baseline(section: CrawlSection) -> tuple[int, float]:
    """Sequential BFS with the same adapters and extraction; returns (pages, seconds)."""
    sites, _ = load_sites(section, Path("."), None)
    queue = deque((url, name, "page") for name, a in sites.items() for url in a.start_pages())
    pages = 0
    started = time.perf_counter()
    with httpx.Client(timeout=10) as client:
        for name, adapter in sites.items():
            queue += [(adapter.absolute(s), name, "sitemap") for s in adapter.sitemaps]
            if adapter.robots_sitemaps:
                robots = Protego.parse(client.get(adapter.absolute("/robots.txt")).text)
                queue += [(s, name, "sitemap") for s in robots.sitemaps]
        seen = {url for url, _, _ in queue}
        while queue:
            url, name, kind = queue.popleft()
            response = client.get(url)
            if response.status_code != 200:
                continue
            pages += kind == "page"
            processed = process_response(sites[name], url, kind, 200, response.headers.get("content-type"),
                                         response.content, "now")
            for link, link_kind, _ in processed.links:
                link = normalize(link)
                if link and link not in seen and "?print=" not in link and "/admin/stats" not in link:
                    seen.add(link)
                    queue.append((link, name, link_kind))
    return pages, time.perf_counter() - started


def ours(section: CrawlSection, folder: Path) -> tuple[int, float]:
    sites, budgets = load_sites(section, Path("."), None)
    state = CrawlState(folder / "frontier.sqlite")
    warc = WarcStore(folder / "warc", state.committed_warc_ends())
    crawler = Crawler(section, sites, budgets, state, warc)
    started = time.perf_counter()
    counts = asyncio.run(crawler.run())
    seconds = time.perf_counter() - started
    warc.close()
    pages = state.query("SELECT COUNT(*) FROM urls WHERE status='done' AND kind='page'")[0][0]
    state.close()
    assert counts.failed == 0, f"{counts.failed} pages failed"
    return pages, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="A smaller site (×4), a few seconds.")
    parser.add_argument("--scale", type=int, help="Repeat the forum's 150 questions this many times (default 20).")
    args = parser.parse_args()
    scale = args.scale or (4 if args.quick else 20)
    console = Console()
    table = Table(title=f"crawl of the fixture site (forum ×{scale}), politeness off")
    for column in ("crawler", "pages", "seconds", "pages/s"):
        table.add_column(column)
    with fixture_process("normal", scale=scale) as base:
        section = politeness_off(base)
        base_pages, base_seconds = baseline(section)
        with tempfile.TemporaryDirectory() as folder:
            our_pages, our_seconds = ours(section, Path(folder))
    table.add_row("sequential script (baseline)", str(base_pages), f"{base_seconds:.2f}", f"{base_pages / base_seconds:.0f}")
    table.add_row("medadapt crawl (async, SQLite + WARC)", str(our_pages), f"{our_seconds:.2f}", f"{our_pages / our_seconds:.0f}")
    console.print(table)
    console.print(f"speed-up {our_pages / our_seconds / (base_pages / base_seconds):.2f}×; goal ≥ 300 pages/s")
    print(f"{our_pages / our_seconds:.1f}")


if __name__ == "__main__":
    main()
