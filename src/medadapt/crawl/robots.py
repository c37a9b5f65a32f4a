"""robots.txt per origin with Protego (longest match, wildcards, crawl-delay), cached in the crawl state.

RFC 9309: a 4xx robots.txt means no rules; an unreachable one (5xx, connection errors) means everything is
disallowed until it can be read.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from protego import Protego

from medadapt.crawl.fetch import Fetcher, FetchFailed
from medadapt.crawl.state import CrawlState

MAX_AGE = timedelta(hours=24)


class Robots:
    def __init__(self, fetcher: Fetcher, state: CrawlState, user_agent: str):
        self.fetcher = fetcher
        self.state = state
        self.user_agent = user_agent
        self._parsed: dict[str, Protego | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.unreachable: dict[str, str] = {}  # origin → reason, for failures.jsonl

    async def rules(self, origin: str) -> Protego | None:
        """Parsed rules, or None when the origin's robots.txt could not be read (then nothing is allowed)."""
        if origin in self._parsed:
            return self._parsed[origin]
        async with self._locks.setdefault(origin, asyncio.Lock()):
            if origin not in self._parsed:
                self._parsed[origin] = await self._load(origin)
        return self._parsed[origin]

    async def _load(self, origin: str) -> Protego | None:
        now = datetime.now(timezone.utc)
        cached = self.state.robots(origin)
        if cached and now - datetime.fromisoformat(cached[2]) < MAX_AGE:
            return Protego.parse(cached[1])
        try:
            fetched = await self.fetcher.get(f"{origin}/robots.txt")
            body = fetched.body.decode("utf-8", errors="replace")
        except FetchFailed as failure:
            if failure.status is not None and 400 <= failure.status < 500:
                body = ""  # no robots.txt: no rules
            else:
                self.unreachable[origin] = f"robots.txt unreachable ({failure.reason}): whole site treated as disallowed"
                return None
        self.state.set_robots(origin, 200, body, now.isoformat())
        return Protego.parse(body)

    async def refusal(self, url: str, origin: str) -> str | None:
        """None if ``url`` may be fetched, else why not."""
        rules = await self.rules(origin)
        if rules is None:
            return self.unreachable[origin]
        return None if rules.can_fetch(url, self.user_agent) else "disallowed by robots.txt"

    async def crawl_delay(self, origin: str) -> float:
        rules = await self.rules(origin)
        return float(rules.crawl_delay(self.user_agent) or 0.0) if rules is not None else 0.0
