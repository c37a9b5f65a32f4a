"""Polite, fault-tolerant HTTP: per-host slots and spacing, retries with backoff and jitter, Retry-After,
manual redirects with loop detection, a streamed size cap and a total time limit per attempt.

The frontier, politeness and retries are asyncio; each single request is a blocking ``httpx.Client`` call in a
thread pool. Measured on 2 cores against the loopback fixture, httpx's AsyncClient spends so much per
request in httpcore/anyio that it tops out near 200–400 requests/s and slows as concurrency grows, while
the sync client in threads scales with it (sockets release the interpreter lock while they wait).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from medadapt.crawl.section import CrawlSection
from medadapt.crawl.urls import host_of, normalize

RETRY_STATUSES = {429, 500, 502, 503, 504}


class FetchFailed(Exception):
    """A URL that could not be fetched; ``reason`` is one line for failures.jsonl."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class RedirectToFetched(Exception):
    """A redirect to a URL this crawl has already fetched: not followed, not a failure."""

    def __init__(self, target: str):
        super().__init__(target)
        self.target = target


class _TotalTimeout(Exception):
    pass


class _Retry(Exception):
    def __init__(self, reason: str, status: int | None = None, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait


@dataclass
class Fetched:
    url: str
    final_url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    redirects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class HostGate:
    """At most ``slots`` requests in flight per host, starts spaced by the host's delay; Retry-After pauses a host."""

    def __init__(self, slots: int, delay: float):
        self.slots = slots
        self.default_delay = delay
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self.delays: dict[str, float] = {}

    def set_delay(self, host: str, delay: float) -> None:
        self.delays[host] = delay

    def pause(self, host: str, seconds: float) -> None:
        self._next_start[host] = max(self._next_start.get(host, 0.0), time.monotonic() + seconds)

    async def __call__(self, host: str, request: Callable[[], Awaitable[Fetched]]) -> Fetched:
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self.slots))
        async with semaphore:
            while (wait := self._next_start.get(host, 0.0) - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            self._next_start[host] = time.monotonic() + self.delays.get(host, self.default_delay)
            return await request()


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Fetcher:
    def __init__(self, config: CrawlSection, client: httpx.Client, executor: ThreadPoolExecutor, gate: HostGate,
                 allowed: Callable[[str], Awaitable[str | None]], fetched: Callable[[str], bool]):
        """``allowed(url)``: None when a redirect target may be fetched, else why not; ``fetched(url)``: done already."""
        self.config = config
        self.client = client
        self.executor = executor
        self.gate = gate
        self.allowed = allowed
        self.fetched = fetched
        self.requests = 0

    async def get(self, url: str) -> Fetched:
        """GET with retries; raise :class:`FetchFailed` with the last reason when every attempt failed."""
        config = self.config
        for attempt in range(config.retries + 1):
            try:
                return await self.gate(host_of(url), lambda: self._attempt(url))
            except _Retry as retry:
                if attempt == config.retries:
                    raise FetchFailed(f"{retry.reason} (after {attempt + 1} attempts)", retry.status) from None
                if retry.wait is not None and retry.wait > config.max_retry_after:
                    raise FetchFailed(f"{retry.reason}: Retry-After {retry.wait:.0f} s exceeds max_retry_after "
                                      f"{config.max_retry_after:.0f} s", retry.status) from None
                wait = retry.wait if retry.wait is not None else config.backoff * 2**attempt * random.uniform(0.5, 1.5)
                self.gate.pause(host_of(url), wait)
        raise AssertionError("unreachable")

    async def _attempt(self, url: str) -> Fetched:
        try:
            return await self._follow(url)
        except _TotalTimeout as exc:
            raise _Retry(str(exc)) from None
        except httpx.TimeoutException as exc:
            raise _Retry(f"timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection error ({type(exc).__name__}: {exc})") from None

    async def _follow(self, url: str) -> Fetched:
        chain = [url]
        current = url
        while True:
            status, reason, headers, body = await asyncio.get_running_loop().run_in_executor(self.executor, self._one, current)
            if status in (301, 302, 303, 307, 308):
                location = next((v for k, v in headers if k.lower() == "location"), None)
                target = normalize(location, current) if location else None
                if target is None:
                    raise FetchFailed(f"HTTP {status} without a usable Location", status)
                if target in chain:
                    raise FetchFailed(f"redirect loop: {' → '.join([*chain, target])}", status)
                if len(chain) > self.config.max_redirects:
                    raise FetchFailed(f"more than {self.config.max_redirects} redirects", status)
                if self.fetched(target):
                    raise RedirectToFetched(target)
                if (refusal := await self.allowed(target)) is not None:
                    raise FetchFailed(f"redirect to {target}: {refusal}", status)
                chain.append(target)
                current = target
                continue
            if status in RETRY_STATUSES:
                wait = retry_after_seconds(next((v for k, v in headers if k.lower() == "retry-after"), None))
                raise _Retry(f"HTTP {status}", status, wait)
            if status >= 400 or status < 200:
                raise FetchFailed(f"HTTP {status}", status)
            return Fetched(url, current, status, reason, headers, body, chain[1:])

    def _one(self, url: str) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """One blocking GET (in a pool thread): headers, then the body streamed under the size and time caps."""
        limit = self.config.max_bytes
        deadline = time.monotonic() + 2 * self.config.timeout  # a server that drips bytes forever is cut off too
        self.requests += 1
        with self.client.stream("GET", url) as response:
            headers = [(k, v) for k, v in response.headers.multi_items()]
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchFailed(f"too large: Content-Length {declared} bytes > max_bytes {limit}", response.status_code)
            chunks: list[bytes] = []
            size = 0
            if response.status_code < 300:
                for chunk in response.iter_bytes():
                    if time.monotonic() > deadline:
                        raise _TotalTimeout(f"timed out after {2 * self.config.timeout:.1f} s in total")
                    size += len(chunk)
                    if size > limit:
                        raise FetchFailed(f"too large: body cut off after {size} bytes > max_bytes {limit}",
                                          response.status_code)
                    chunks.append(chunk)
            return response.status_code, response.reason_phrase, headers, b"".join(chunks)
