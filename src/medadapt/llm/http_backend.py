"""Any OpenAI-compatible ``/chat/completions`` endpoint (vLLM, TGI, llama.cpp server, hosted APIs) via aiohttp.

``base_url`` may list several servers of the same model (llm/endpoints.py spreads requests over them and
takes a failing one out of rotation); at most ``concurrency`` requests are in flight per server. 429, 5xx,
timeouts, dropped connections and unreadable bodies are retried, on another server when one is healthy,
else with exponential backoff (a server's ``Retry-After`` wins); other 4xx fail at once. The API key goes
only into the Authorization header: no message this module builds contains it.

The client is aiohttp's ClientSession on a keep-alive pool of ``concurrency`` connections per server, used directly:
httpx's own pool spends time quadratic in the connections, and httpx over aiohttp still spent ~0.5 ms of
CPU per request in httpx's request/response models, which at 64 concurrent requests was the bottleneck.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Mapping

import aiohttp

from medadapt.llm.backend import Backend, ChatRequest, Completion
from medadapt.llm.config import BackendConfig
from medadapt.llm.endpoints import Endpoint, Endpoints
from medadapt.llm.errors import RequestFailed

RETRY_STATUS = {408, 409, 429}
JSON_CONTENT = {"Content-Type": "application/json"}


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date), or None."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def parse_completion(data: object) -> Completion:
    """The first choice of a chat-completions body; ValueError when the body is not one."""
    if not isinstance(data, dict) or not data.get("choices"):
        raise ValueError("no choices in the response body")
    choice = data["choices"][0]
    content = (choice.get("message") or {}).get("content")
    if not isinstance(content, str):
        raise ValueError("choices[0].message.content is not text")
    usage = data.get("usage") or {}
    return Completion(text=content, finish_reason=choice.get("finish_reason") or "stop",
                      prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0))


class OpenAIBackend(Backend):
    kind = "openai"

    def __init__(self, config: BackendConfig, api_key: str | None):
        self.model = config.model
        self.config = config
        self.endpoints = Endpoints(config.base_urls, config.concurrency, config.endpoint_cooldown_s)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._session: aiohttp.ClientSession | None = None  # made on first use: it belongs to the running loop

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.config.concurrency * len(self.endpoints.all),
                                             limit_per_host=self.config.concurrency)
            self._session = aiohttp.ClientSession(
                connector=connector, headers=self._headers, timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
            )
        return self._session

    def _backoff(self, attempt: int) -> float:
        return self.config.retry_backoff_s * (2 ** attempt) * random.uniform(0.5, 1.0)

    async def _slot(self, avoid: Endpoint | None) -> Endpoint:
        """An endpoint with one of its slots taken. One that was taken out of rotation while this request
        waited for its slot is given up for another, if another is healthy."""
        while True:
            endpoint = self.endpoints.pick(avoid)
            endpoint.assigned += 1
            try:
                await endpoint.slots.acquire()
            except BaseException:  # cancelled while waiting
                endpoint.assigned -= 1
                raise
            if self.endpoints.usable(endpoint):
                return endpoint
            endpoint.slots.release()
            endpoint.assigned -= 1

    async def _attempt(self, endpoint: Endpoint, body: bytes) -> tuple[Completion | None, str, float | None, bool]:
        """One try on a slot of ``endpoint`` (released here): (completion, "", None, False) or (None, why it
        failed, server-requested wait, whether the failure says the server is down or broken)."""
        try:
            async with self._client().post(endpoint.url, data=body, headers=JSON_CONTENT) as response:
                status, headers, raw = response.status, response.headers, await response.read()
        except asyncio.TimeoutError:
            return None, f"timed out after {self.config.timeout_s:g} s", None, True
        except aiohttp.ClientError as exc:
            return None, f"{type(exc).__name__}: {exc}", None, True
        finally:
            endpoint.slots.release()
            endpoint.assigned -= 1
        if status >= 500 or status in RETRY_STATUS:
            return None, f"HTTP {status}", retry_after_seconds(headers), status >= 500
        if status >= 400:
            raise RequestFailed(f"HTTP {status}: {raw[:200]!r}", file=endpoint.url)
        try:
            return parse_completion(json.loads(raw)), "", None, False
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors too
            return None, f"unreadable response body ({exc})", None, False

    async def complete(self, request: ChatRequest) -> Completion:
        body = json.dumps({"model": self.model, "messages": request.message_dicts(), **request.params},
                          ensure_ascii=False).encode()
        reason, endpoint = "", None
        for attempt in range(self.config.max_retries + 1):
            endpoint = await self._slot(avoid=endpoint)
            completion, reason, wait, down = await self._attempt(endpoint, body)
            if completion is not None:
                endpoint.answered += 1
                return completion
            endpoint.failed += 1
            if down:
                self.endpoints.take_out(endpoint)
            if attempt < self.config.max_retries and not self.endpoints.has_other_healthy(endpoint):
                await asyncio.sleep(wait if wait is not None else self._backoff(attempt))
        raise RequestFailed(f"gave up after {self.config.max_retries + 1} attempts: {reason}",
                            file=endpoint.url if endpoint else "")

    def endpoint_counts(self) -> dict[str, dict[str, int]]:
        return self.endpoints.counts()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
