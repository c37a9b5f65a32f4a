"""A fake OpenAI-compatible server on loopback, for tests, benchmarks and offline demos.

Answers are deterministic per task (recognised by the output contract in the prompt), latency is
configurable, and faults can be injected per request number: ``429`` (with Retry-After), ``500``,
``timeout`` (answers after the client gave up), ``malformed`` (a body that is not JSON) and ``truncated``
(half the answer, finish_reason=length). Every request body is logged in order.

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
FAULTS = ("429", "500", "timeout", "malformed", "truncated")


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
                 faults: FaultPlan | None = None, timeout_s: float = 5.0):
        self.responder = responder
        self.latency_s = latency_s
        self.faults = faults or (lambda number, body: None)
        self.timeout_s = timeout_s
        self.log: list[dict[str, Any]] = []

    def prompts(self) -> list[str]:
        """The user message of every request received, in order."""
        return [user_text(entry["body"]) for entry in self.log]

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        return app

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
        if fault == "timeout":
            await asyncio.sleep(self.timeout_s)
        if fault == "malformed":
            return web.Response(text='{"choices": [', content_type="application/json")
        content = self.responder(body)
        finish = "stop"
        if fault == "truncated":
            content, finish = content[: len(content) // 2], "length"
        prompt_tokens = sum(len(m.get("content", "").split()) for m in body.get("messages", []))
        return web.json_response({
            "id": f"fake-{number}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content.split()),
                      "total_tokens": prompt_tokens + len(content.split())}})


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
    loop.run_until_complete(web.SockSite(runner, sock, backlog=2048).start())
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
