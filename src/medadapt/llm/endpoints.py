"""Several base URLs serving one model (e.g. one vLLM server per GPU), seen by the HTTP backend as one.

Each request goes to the healthy endpoint with the fewest requests assigned to it, so a slow server gets
fewer. An endpoint that failed the way a dead or broken server fails (connection refused or dropped, 5xx,
timeout) is left out for ``cooldown_s`` and then tried again; while it is out, a request that failed on it
is retried at once on another one, without waiting for the backoff. When every endpoint is out, the one
coming back soonest is used (the backend's backoff then paces the attempts), so one URL behaves exactly as
a single server always did. Which endpoint answered never changes the answer's cache key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Endpoint:
    base_url: str
    concurrency: int
    assigned: int = 0  # requests waiting for one of its slots or in flight
    answered: int = 0
    failed: int = 0
    taken_out: int = 0  # times it was left out after a failure
    down_until: float = 0.0
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def counts(self) -> dict[str, int]:
        return {"answered": self.answered, "failed": self.failed, "taken_out": self.taken_out}


class Endpoints:
    def __init__(self, base_urls: list[str], concurrency: int, cooldown_s: float,
                 clock: Callable[[], float] = time.monotonic):
        self.all = [Endpoint(url, concurrency) for url in base_urls]
        self.cooldown_s = cooldown_s
        self.clock = clock

    def _healthy(self) -> list[Endpoint]:
        now = self.clock()
        return [e for e in self.all if e.down_until <= now]

    def pick(self, avoid: Endpoint | None = None) -> Endpoint:
        """The least busy healthy endpoint other than ``avoid`` (the one that just failed), else ``avoid`` if
        it is healthy, else the one back soonest."""
        healthy = self._healthy()
        candidates = [e for e in healthy if e is not avoid] or healthy
        if not candidates:
            return min(self.all, key=lambda e: e.down_until)
        return min(candidates, key=lambda e: (e.assigned, e.answered + e.failed))

    def usable(self, endpoint: Endpoint) -> bool:
        """Healthy, or the best there is (every other endpoint is out too)."""
        return endpoint.down_until <= self.clock() or not self.has_other_healthy(endpoint)

    def has_other_healthy(self, endpoint: Endpoint) -> bool:
        return any(e is not endpoint for e in self._healthy())

    def take_out(self, endpoint: Endpoint) -> None:
        if endpoint.down_until <= self.clock():
            endpoint.taken_out += 1
        endpoint.down_until = self.clock() + self.cooldown_s

    def counts(self) -> dict[str, dict[str, int]]:
        return {e.base_url: e.counts() for e in self.all}
