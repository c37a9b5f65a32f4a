"""A fake OpenAI-compatible server on loopback, for tests, benchmarks and offline demos.

Answers are deterministic per task (recognised by the output contract in the prompt), latency is
configurable, and faults can be injected per request number: ``429`` (with Retry-After), ``500``,
``timeout`` (answers after the client gave up), ``malformed`` (a body that is not JSON) and ``truncated``
(half the answer, finish_reason=length); for the guard mode's error paths also ``400`` (an OpenAI error
body with param and code), ``html`` (a 503 whose body is an HTML page) and, in a streamed answer,
``midstream`` (half the answer, then an error event) and ``dropped`` (half, then the connection closes).
Every request body is logged in order. ``"stream": true`` gets server-sent events (one chunk per word,
usage last when ``stream_options.include_usage`` asks; ``chunk_latency_s`` between chunks), and ``GET
/v1/models`` lists ``models``.
``kill_after=N`` makes the server die like a killed process when a request arrives after N were received:
that request and every one still in flight lose their connection, and the port stops listening (later
connections are refused); ``answered`` lists the user message of every request answered (whatever its
status), those cut off by the kill left out.

It is a bare aiohttp.web handler (aiohttp's C HTTP parser, no validation layer): the benchmark's client and
this server share two cores, so every tenth of a millisecond the server spends per request is taken from
the client under test. On one core FastAPI + uvicorn served ~1,300 requests/s (wrk, 64 connections, no
latency), this ~9,000/s.

    python -m medadapt.llm.fake_server --port 8123 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

Responder = Callable[[dict[str, Any]], str]
FaultPlan = Callable[[int, dict[str, Any]], "str | None"]
FAULTS = ("429", "500", "timeout", "malformed", "truncated", "400", "html", "midstream", "dropped")


def user_text(body: dict[str, Any]) -> str:
    return next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")


def default_responder(body: dict[str, Any]) -> str:
    """A plausible, well-formed answer for each medadapt task prompt."""
    text = user_text(body)
    if '"logical_consistency"' in text:
        return '{"logical_consistency": 0.9, "factual_accuracy": 0.8, "sound_reasoning": 0.85}'
    if '{"score"' in text:
        return '{"score": 90, "feedback": ""}'
    if "###Patient" in text:
        answer = text.strip().splitlines()[-1].split(":", 1)[-1].strip()
        return (f"###Patient: I have a question about my health.\n###Doctor: Tell me more.\n"
                f"###Patient: What is the right answer here?\n###Doctor: It is {answer}, as the guidelines say.")
    if "###MCQ" in text:
        topic = text.rsplit(":", 1)[-1].strip().split(".")[0][:60] or "the passage"
        return (f"###MCQ\n###Question: What does the passage say about {topic}?\n###Options:\nA. It is true\n"
                f"B. It is false\nC. It is unknown\nD. None\n###Answer: A\n###Rationale: The passage states it.\n"
                f"###SAQ\n###Question: Summarise {topic}.\n###Answer: {topic}.\n###Rationale: From the passage.")
    if match := re.search(r"```json\s*(\{.*?\})\s*```", text, re.DOTALL):
        fields = json.loads(match.group(1))
        return json.dumps({k: [f"~{x}" for x in v] if isinstance(v, list) else f"~{v}" for k, v in fields.items()},
                          ensure_ascii=False)
    last = text.strip().splitlines()[-1] if text.strip() else ""
    return f"In detail: {last.split(':', 1)[-1].strip()}. See a doctor if it does not get better."


class FakeOpenAI:
    """The server's behaviour; its attributes may be changed between requests (from any thread)."""

    def __init__(self, responder: Responder = default_responder, latency_s: float = 0.0,
                 faults: FaultPlan | None = None, timeout_s: float = 5.0, models: tuple[str, ...] = ("fake-model",),
                 kill_after: int | None = None, chunk_latency_s: float = 0.0):
        self.responder = responder
        self.latency_s = latency_s
        self.faults = faults or (lambda number, body: None)
        self.timeout_s = timeout_s
        self.models = models
        self.kill_after = kill_after
        self.chunk_latency_s = chunk_latency_s
        self.killed = False
        self.log: list[dict[str, Any]] = []
        self.answered: list[str] = []
        self._open: set[asyncio.BaseTransport] = set()  # connections of requests being answered
        self._site: web.BaseSite | None = None  # set by serve(), closed by the kill

    def prompts(self) -> list[str]:
        """The user message of every request received, in order."""
        return [user_text(entry["body"]) for entry in self.log]

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat_until_killed)
        app.router.add_get("/v1/models", self._models)
        return app

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "fake"} for name in self.models]})

    async def _chat_until_killed(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if not self.killed and self.kill_after is not None and len(self.log) >= self.kill_after:
            await self._die()
        if self.killed or transport is None:  # also a kept-alive connection to the dead server
            return self._cut(transport)
        self._open.add(transport)
        try:
            response = await self._chat(request)
        finally:
            self._open.discard(transport)
        if self.killed:  # died while this one was being answered
            return self._cut(transport)
        self.answered.append(user_text(await request.json()))
        return response

    async def _die(self) -> None:
        self.killed = True
        for transport in self._open:
            transport.abort()
        if self._site is not None:
            await self._site.stop()

    @staticmethod
    def _cut(transport: asyncio.BaseTransport | None) -> web.Response:
        if transport is not None:
            transport.abort()
        return web.Response(status=500)  # never delivered: the connection is gone

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        # Handlers run on one event loop and nothing below awaits before the append: numbers are unique.
        number = len(self.log)
        fault = self.faults(number, body)
        self.log.append({"body": body, "fault": fault, "authorization": request.headers.get("authorization")})
        await asyncio.sleep(self.latency_s)
        if fault == "429":
            return web.json_response({"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "0"})
        if fault == "500":
            return web.json_response({"error": {"message": "server error"}}, status=500)
        if fault == "400":
            return web.json_response({"error": {"message": "this model's maximum context length is 8 tokens",
                                                "type": "invalid_request_error", "param": "messages",
                                                "code": "context_length_exceeded"}}, status=400)
        if fault == "html":
            return web.Response(text="<html><body><h1>503 Service Unavailable</h1></body></html>", status=503,
                                content_type="text/html")
        if fault == "timeout":
            await asyncio.sleep(self.timeout_s)
        if fault == "malformed" and not body.get("stream"):
            return web.Response(text='{"choices": [', content_type="application/json")
        content = self.responder(body)
        finish = "stop"
        if fault == "truncated":
            content, finish = content[: len(content) // 2], "length"
        prompt_tokens = sum(len(m.get("content", "").split()) for m in body.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(content.split()),
                 "total_tokens": prompt_tokens + len(content.split())}
        head = {"id": f"fake-{number}", "created": int(time.time()), "model": body.get("model", "fake")}
        if body.get("stream"):
            return await self._stream(request, body, head, content, finish, usage, fault)
        return web.json_response({
            **head, "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": usage})

    async def _stream(self, request: web.Request, body: dict[str, Any], head: dict[str, Any], content: str,
                      finish: str, usage: dict[str, int], fault: str | None) -> web.StreamResponse:
        """The answer as OpenAI streams one: a role chunk, one chunk per word, the finish reason, the usage
        when asked, ``[DONE]`` — or, under a streaming fault, half of it and then the fault."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def send(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
            await response.write(f"data: {data}\n\n".encode())

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {**head, "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

        pieces = re.findall(r"\s*\S+", content) or [content]
        broken = fault in ("midstream", "dropped", "malformed")
        await send(chunk({"role": "assistant", "content": ""}))
        for piece in pieces[: len(pieces) // 2] if broken else pieces:
            await asyncio.sleep(self.chunk_latency_s)
            await send(chunk({"content": piece}))
        if fault == "midstream":
            await send({"error": {"message": "the model crashed", "type": "server_error", "param": None,
                                  "code": "internal_error"}})
            return response
        if fault == "malformed":
            await send('{"choices": [')
            return response
        if fault == "dropped":
            request.transport.close()  # no finish reason, no [DONE]: the connection just ends
            return response
        await send(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        await send("[DONE]")
        await response.write_eof()
        return response


@contextmanager
def serve(fake: FakeOpenAI, port: int = 0) -> Iterator[str]:
    """Run ``fake`` on 127.0.0.1 in a background thread; yields its base URL (``http://127.0.0.1:PORT/v1``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    loop = asyncio.new_event_loop()
    # Requests still held (a "timeout" fault) are cancelled at once on exit instead of finishing.
    runner = web.AppRunner(fake.application(), access_log=None, shutdown_timeout=0)
    loop.run_until_complete(runner.setup())
    fake._site = web.SockSite(runner, sock, backlog=2048)
    loop.run_until_complete(fake._site.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--latency", type=float, default=0.0, help="Seconds before each answer.")
    args = parser.parse_args()
    with serve(FakeOpenAI(latency_s=args.latency), args.port) as url:
        print(f"fake OpenAI-compatible server on {url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
