"""Guard mode's model: any OpenAI-compatible server (vLLM, llama.cpp, Ollama, a hosted API) streamed through
``/chat/completions``, so that the safety layer, limits and queue of ``medadapt serve`` sit in front of it.

``UpstreamModel.stream`` returns the same ``Generation`` a local model does, so ``SafetyLayer.respond`` and
the server treat both alike. Whatever goes wrong upstream becomes an ``APIError`` in OpenAI's shape: the
upstream's own 4xx (status, message, type, param and code passed through), 502 for a 5xx, an unreachable
server, a malformed or broken stream, 504 when it stops answering. The server sends it as the response,
or as an error event when the stream has begun. Nothing is retried: a client that wants a retry asks
again, and a half-streamed answer cannot be taken back.

The context window is the upstream's to enforce (``context_window = None``: the planner counts no tokens);
medadapt's repetition penalty is not sent (not an OpenAI parameter). The key travels only in the
Authorization header; messages and logs never carry it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx

from medadapt.errors import MedadaptError, single_line
from medadapt.llm.http_backend import parse_completion
from medadapt.llm.streaming import Generation, GenParams, StopFlag
from medadapt.serve.api import APIError

log = logging.getLogger("medadapt.serve")


class UpstreamError(MedadaptError):
    """An upstream that cannot be used at start-up (unreachable, no model to serve)."""


def _auth(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def upstream_models(base_url: str, api_key: str | None, timeout_s: float) -> list[str]:
    """The model names ``GET {base_url}/models`` lists, in its order."""
    url = base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(url, headers=_auth(api_key), timeout=timeout_s)
        response.raise_for_status()
        names = [str(card["id"]) for card in response.json()["data"]]
    except httpx.HTTPStatusError as exc:
        raise UpstreamError(f"HTTP {exc.response.status_code}: {_error_text(exc.response.content)}", file=url) from None
    except httpx.HTTPError as exc:
        raise UpstreamError(f"cannot reach the upstream ({type(exc).__name__}: {exc})", file=url) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UpstreamError(f"not an OpenAI model list ({type(exc).__name__}: {exc})", file=url) from None
    if not names:
        raise UpstreamError("the upstream lists no models; name one with --upstream-model", file=url)
    return names


def _error_fields(raw: bytes) -> dict[str, Any]:
    """An error body's ``{"error": {...}}`` (vLLM's older ``{"object": "error", ...}``, Ollama's ``{"error":
    "text"}``) as message/type/param/code; a body that is not JSON gives its first line as the message."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {"message": _error_text(raw)}
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        return {key: error.get(key) for key in ("message", "type", "param", "code")}
    return {"message": single_line(str(error))[:300]}


def _error_text(raw: bytes) -> str:
    text = single_line(raw.decode("utf-8", "replace"))
    return text[:300] or "(empty body)"


def upstream_error(status: int, raw: bytes, headers: httpx.Headers | None = None) -> APIError:
    """The client's error for an upstream's error response: 4xx as the upstream said it, 5xx as 502."""
    fields = _error_fields(raw)
    message = f"the upstream model server answered HTTP {status}: {fields.get('message') or _error_text(raw)}"
    retry = {"Retry-After": headers["retry-after"]} if headers is not None and "retry-after" in headers else None
    if 400 <= status < 500:
        return APIError(status, message, fields.get("type") or "invalid_request_error", fields.get("code"),
                        fields.get("param"), headers=retry)
    return APIError(502, message, "server_error", "upstream_error", headers=retry)


def transport_error(exc: httpx.TransportError, timeout_s: float) -> APIError:
    """504 when the upstream stopped answering, 502 when it cannot be reached or broke the connection."""
    if isinstance(exc, httpx.TimeoutException):
        return APIError(504, f"the upstream model server did not answer within {timeout_s:g} s", "server_error",
                        "upstream_timeout")
    if isinstance(exc, httpx.ConnectError):
        return APIError(502, f"the upstream model server cannot be reached ({exc})", "server_error",
                        "upstream_unreachable")
    return APIError(502, f"the upstream model server broke the connection ({type(exc).__name__}: {exc})",
                    "server_error", "upstream_error")


def _broken(why: str) -> APIError:
    return APIError(502, f"the upstream model server sent a broken stream: {why}", "server_error", "upstream_error")


class UpstreamModel:
    """An OpenAI-compatible server's model, streamed; one keep-alive pool of ``connections`` connections,
    shared by the server's worker threads. ``timeout_s`` bounds connecting and each wait for the next bytes."""

    context_window: int | None = None

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 120.0,
                 connections: int = 8):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout_s = timeout_s
        self._client = httpx.Client(headers=_auth(api_key), timeout=timeout_s,
                                    limits=httpx.Limits(max_connections=connections))

    def close(self) -> None:
        self._client.close()

    def request_body(self, messages: list[dict[str, str]], params: GenParams) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True,
                                "stream_options": {"include_usage": True}, "max_tokens": params.max_new_tokens,
                                "temperature": params.temperature, "top_p": params.top_p}
        if params.stop:
            body["stop"] = params.stop
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    def stream(self, messages: list[dict[str, str]], params: GenParams, stop: StopFlag | None = None) -> Generation:
        """The upstream's streamed answer. Nothing is sent until the generation is iterated; closing it (or
        tripping ``stop``) closes the connection, which tells the upstream to stop generating."""
        stop = stop or StopFlag()
        generation: Generation

        def pieces() -> Iterator[str]:
            try:
                with self._client.stream("POST", self.url, json=self.request_body(messages, params)) as response:
                    if response.status_code >= 400:
                        raise upstream_error(response.status_code, response.read(), response.headers)
                    if not response.headers.get("content-type", "").startswith("text/event-stream"):
                        yield from self._whole(response.read(), generation)  # a server that ignored "stream"
                        return
                    yield from self._events(response.iter_lines(), generation, stop)
            except httpx.TransportError as exc:
                error = transport_error(exc, self.timeout_s)
                log.warning("upstream %s: %s", self.url, error.message)
                raise error from None
            except APIError as error:
                log.warning("upstream %s: %s", self.url, error.message)
                raise

        generation = Generation(pieces(), 0)
        return generation

    @staticmethod
    def _whole(raw: bytes, generation: Generation) -> Iterator[str]:
        try:
            completion = parse_completion(json.loads(raw))
        except ValueError as exc:
            raise _broken(f"unreadable answer ({exc})") from None
        generation.prompt_tokens, generation.completion_tokens = completion.prompt_tokens, completion.completion_tokens
        generation.finish_reason = completion.finish_reason
        yield completion.text

    @staticmethod
    def _events(lines: Iterator[str], generation: Generation, stop: StopFlag) -> Iterator[str]:
        """Text pieces from the ``data:`` lines of a chat-completions stream; the finish reason and usage
        recorded on ``generation``. An error event, an unreadable chunk or a stream that ends before its
        answer did raise."""
        finished = False
        for line in lines:
            if stop.event.is_set():
                return
            if not line.startswith("data:"):
                continue  # blank separators, comments (": ping"), "event:" lines
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError:
                raise _broken(f"a chunk that is not JSON ({data[:80]!r})") from None
            if not isinstance(chunk, dict):
                raise _broken(f"a chunk that is not an object ({data[:80]!r})")
            if "error" in chunk or chunk.get("object") == "error":
                fields = _error_fields(data.encode())
                raise APIError(502, f"the upstream model server failed mid-answer: {fields.get('message')}",
                               "server_error", "upstream_error")
            usage = chunk.get("usage") or {}
            if usage:
                generation.prompt_tokens = int(usage.get("prompt_tokens") or 0)
                generation.completion_tokens = int(usage.get("completion_tokens") or 0)
            for choice in chunk.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    if not usage:
                        generation.completion_tokens += 1  # a chunk per token, until usage says otherwise
                    yield content
                if choice.get("finish_reason"):
                    generation.finish_reason = choice["finish_reason"]  # stop, length, content_filter…
                    finished = True
        if not finished:
            raise _broken("it ended before the answer finished")
