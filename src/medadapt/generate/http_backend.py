"""Any OpenAI-compatible ``/chat/completions`` endpoint (vLLM, TGI, llama.cpp server, hosted APIs) via httpx.

At most ``concurrency`` requests are in flight. 429, 5xx, timeouts, dropped connections and unreadable
bodies are retried with exponential backoff (a server's ``Retry-After`` wins); other 4xx fail at once.
The API key goes only into the Authorization header: no message this module builds contains it.

The client is httpx over aiohttp's connection pool (httpx-aiohttp): httpcore's own pool spends time
quadratic in the connections on every request, which caps it far below 64 concurrent requests on a small CPU.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time

import httpx
from httpx_aiohttp import HttpxAiohttpClient

from medadapt.generate.backend import Backend, ChatRequest, Completion
from medadapt.generate.config import BackendConfig
from medadapt.generate.errors import RequestFailed

RETRY_STATUS = {408, 409, 429}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
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
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = HttpxAiohttpClient(
            headers=headers, timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency),
        )
        self._slots = asyncio.Semaphore(config.concurrency)

    def _backoff(self, attempt: int) -> float:
        return self.config.retry_backoff_s * (2 ** attempt) * random.uniform(0.5, 1.0)

    async def _attempt(self, body: dict) -> tuple[Completion | None, str, float | None]:
        """One try: (completion, "", None) or (None, why it failed, server-requested wait)."""
        async with self._slots:
            try:
                response = await self._client.post(self.url, json=body)
            except httpx.TimeoutException:
                return None, f"timed out after {self.config.timeout_s:g} s", None
            except httpx.TransportError as exc:
                return None, f"{type(exc).__name__}: {exc}", None
        if response.status_code >= 500 or response.status_code in RETRY_STATUS:
            return None, f"HTTP {response.status_code}", retry_after_seconds(response)
        if response.status_code >= 400:
            raise RequestFailed(f"HTTP {response.status_code}: {response.text[:200]!r}", file=self.url)
        try:
            return parse_completion(response.json()), "", None
        except ValueError as exc:
            return None, f"unreadable response body ({exc})", None

    async def complete(self, request: ChatRequest) -> Completion:
        body = {"model": self.model, "messages": request.message_dicts(), **request.params}
        reason = ""
        for attempt in range(self.config.max_retries + 1):
            completion, reason, wait = await self._attempt(body)
            if completion is not None:
                return completion
            if attempt < self.config.max_retries:
                await asyncio.sleep(wait if wait is not None else self._backoff(attempt))
        raise RequestFailed(f"gave up after {self.config.max_retries + 1} attempts: {reason}", file=self.url)

    async def aclose(self) -> None:
        await self._client.aclose()
