"""The async frontier: breadth-first over every site, polite per host, committed to SQLite page by page."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from rich.console import Console

from medadapt.crawl.adapters import SiteAdapter
from medadapt.crawl.fetch import Fetched, Fetcher, FetchFailed, HostGate, RedirectToFetched
from medadapt.crawl.pages import Processed, process_response
from medadapt.crawl.robots import Robots
from medadapt.crawl.section import CrawlSection
from medadapt.crawl.state import CrawlState, NewLink, Outcome, Pending
from medadapt.crawl.urls import host_of, normalize, origin
from medadapt.crawl.warc import WarcStore
from medadapt.runs.manifest import now

PROGRESS_SECONDS = 10.0


@dataclass
class SessionCounts:
    """What this session did (the totals over all sessions come from the state)."""

    fetched: int = 0
    failed: int = 0
    refused: int = 0
    over_budget: int = 0
    beyond_depth: int = 0
    off_site: int = 0
    decoding_notes: Counter = field(default_factory=Counter)


class Crawler:
    def __init__(self, config: CrawlSection, sites: dict[str, SiteAdapter], budgets: dict[str, int],
                 state: CrawlState, warc: WarcStore, console: Console | None = None):
        self.config = config
        self.sites = sites
        self.budgets = budgets
        self.state = state
        self.warc = warc
        self.console = console or Console(quiet=True)
        self.counts = SessionCounts()
        self._started: Counter = Counter({name: state.done_pages(name) for name in sites})
        self._queue: asyncio.PriorityQueue = asyncio.PriorityQueue()
        self._order = itertools.count()
        self._site_hosts = {name: host_of(a.base_url) for name, a in sites.items()}
        #: URLs with an outcome (fetched, failed, refused, or fetched under another URL that redirected there)
        self._finished: set[str] = {row[0] for row in state.query("SELECT url FROM urls WHERE status != 'pending'")}

    def seed(self) -> None:
        links = []
        for name, adapter in self.sites.items():
            links += [NewLink(u, name, "page", 0, None, "start") for u in map(normalize, adapter.start_pages()) if u]
            links += [NewLink(u, name, "sitemap", 0, None, "start") for u in map(normalize, map(adapter.absolute, adapter.sitemaps)) if u]
        with self.state.db:
            self.state.db.execute("BEGIN")
            self.state.add(links)

    async def run(self) -> SessionCounts:
        self.seed()
        for item in self.state.pending():
            self._put(item)
        limits = httpx.Limits(max_connections=self.config.concurrency, max_keepalive_connections=self.config.concurrency)
        with httpx.Client(
            headers={"User-Agent": self.config.user_agent}, timeout=httpx.Timeout(self.config.timeout),
            limits=limits, follow_redirects=False, trust_env=False,
        ) as client, ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="fetch") as executor:
            gate = HostGate(self.config.per_host_concurrency, self.config.per_host_delay)
            self.fetcher = Fetcher(self.config, client, executor, gate, self._refusal, self._finished.__contains__)
            self.robots = Robots(self.fetcher, self.state, self.config.user_agent)
            self._gate = gate
            await self._seed_robots_sitemaps()
            workers = [asyncio.create_task(self._worker()) for _ in range(self.config.concurrency)]
            workers.append(asyncio.create_task(self._progress()))
            await self._queue.join()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.counts

    async def _seed_robots_sitemaps(self) -> None:
        links = []
        for name, adapter in self.sites.items():
            rules = await self.robots.rules(origin(adapter.base_url)) if adapter.robots_sitemaps else None
            links += [NewLink(u, name, "sitemap", 0, None, "robots") for u in map(normalize, rules.sitemaps if rules else []) if u]
        with self.state.db:
            self.state.db.execute("BEGIN")
            for link in self.state.add(links):
                self._put(Pending(link.url, link.site, link.kind, link.depth))

    async def _progress(self) -> None:
        """A line every few seconds: a real crawl runs for hours or days."""
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            c = self.counts
            self.console.print(f"crawl: {c.fetched} fetched, {c.failed} failed, {c.refused} refused, "
                               f"{self._queue.qsize()} queued")

    def _put(self, item: Pending) -> None:
        self._queue.put_nowait((item.depth, next(self._order), item))

    async def _refusal(self, url: str) -> str | None:
        """Why a URL (or a redirect target) may not be fetched, or None."""
        if not self.config.allow_cross_host and host_of(url) not in self._site_hosts.values():
            return f"off-site ({host_of(url)}) and allow_cross_host is false"
        if not self.config.obey_robots:
            return None
        site_origin = origin(url)
        refusal = await self.robots.refusal(url, site_origin)
        delay = max(self.config.per_host_delay, await self.robots.crawl_delay(site_origin))
        self._gate.set_delay(host_of(url), delay)
        return refusal

    async def _worker(self) -> None:
        while True:
            _, _, item = await self._queue.get()
            try:
                await self._visit(item)
            except Exception as exc:  # noqa: BLE001 — one URL's unexpected error must not stop the crawl
                self._commit(item, Outcome(item.url, "failed", now(), reason=f"crawler error: {type(exc).__name__}: {exc}",
                                           failures=[("crawl", f"{type(exc).__name__}: {exc}")]))
            finally:
                self._queue.task_done()

    async def _visit(self, item: Pending) -> None:
        if item.url in self._finished:
            return  # fetched meanwhile as the target of a redirect
        if item.kind == "page":
            if self._started[item.site] >= self.budgets[item.site]:
                self.counts.over_budget += 1  # stays pending in the state: a later run with a larger budget goes on
                return
            self._started[item.site] += 1
        refusal = await self._refusal(item.url)
        if refusal is not None:
            self.counts.refused += 1
            self._commit(item, Outcome(item.url, "skipped", now(), reason=refusal, failures=[("robots", refusal)]))
            return
        try:
            fetched = await self.fetcher.get(item.url)
        except RedirectToFetched as known:
            self._commit(item, Outcome(item.url, "alias", now(), final_url=known.target,
                                       reason=f"redirects to {known.target}, crawled already"))
            return
        except FetchFailed as failure:
            self.counts.failed += 1
            self._commit(item, Outcome(item.url, "failed", now(), http_status=failure.status,
                                       reason=failure.reason, failures=[("fetch", failure.reason)]))
            return
        fetched_at = now()
        processed, record = await asyncio.get_running_loop().run_in_executor(
            self.fetcher.executor, self._read, item, fetched, fetched_at)
        if processed.decoding_note:
            self.counts.decoding_notes[re.sub(r"\d+", "N", processed.decoding_note)] += 1
        warc = self.warc.append(record)
        links = [NewLink(fetched.final_url, item.site, item.kind, item.depth, item.url, "redirect", "alias")] if fetched.redirects else []
        for url, kind, found_by in processed.links:
            if item.depth + 1 > self.config.max_depth:
                self.counts.beyond_depth += 1
                continue
            if not self.config.allow_cross_host and host_of(url) != host_of(fetched.final_url):
                self.counts.off_site += 1
                continue
            links.append(NewLink(url, item.site, kind, item.depth + 1, fetched.final_url, found_by))
        self.counts.fetched += 1
        outcome = Outcome(item.url, "done", fetched_at, http_status=fetched.status, bytes=len(fetched.body),
                          page_kind=processed.page_kind, final_url=fetched.final_url if fetched.redirects else None,
                          warc=warc, records=processed.records, failures=processed.failures, links=links)
        for link in self._commit(item, outcome):
            if link.status == "pending":
                self._put(Pending(link.url, link.site, link.kind, link.depth))

    def _read(self, item: Pending, fetched: Fetched, fetched_at: str) -> tuple[Processed, bytes]:
        """Extraction and the WARC record, in a pool thread (parsers and zlib do not hold the loop)."""
        processed = process_response(self.sites[item.site], fetched.final_url, item.kind, fetched.status,
                                     fetched.header("content-type"), fetched.body, fetched_at)
        record = WarcStore.serialize(fetched.final_url, fetched.status, fetched.reason, fetched.headers, fetched.body)
        return processed, record

    def _commit(self, item: Pending, outcome: Outcome) -> list[NewLink]:
        self._finished.add(item.url)
        if outcome.status == "done" and outcome.final_url:
            self._finished.add(outcome.final_url)
        return self.state.commit(outcome, item.site)
