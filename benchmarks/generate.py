"""Throughput of the generate client against the fake OpenAI-compatible server (50 ms per answer).

Baseline: the official ``openai`` AsyncOpenAI client with the same concurrency limit, no cache. Reference:
a bare aiohttp loop (no cache, retries or accounting), what a minimal Python client reaches on this machine
in the same run. Ours: medadapt's client (aiohttp, retries, SQLite cache, usage accounting). The ideal is
concurrency / latency. A second pass over the same requests must be served from the cache (0 requests sent).
CPU per request is shown for the client process and the server process: they share the machine's cores,
and the 1-minute load average before the run says how much other work took from them.
The headline, printed last: our throughput as a share of the ideal (target ≥ 0.9).

    .venv/bin/python benchmarks/generate.py [--quick] [--requests 2000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import psutil

from medadapt.llm.backend import ChatRequest
from medadapt.llm.cache import RequestCache
from medadapt.llm.client import Client
from medadapt.llm.config import BackendConfig
from medadapt.llm.http_backend import OpenAIBackend

LATENCY = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "medadapt.llm.fake_server", "--port", str(port),
                                "--latency", str(LATENCY)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json={"messages": []}, timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the fake server did not start")


def prompts(n: int) -> list[str]:
    return [f"Question: benchmark item {i}\nShort answer: rest {i}." for i in range(n)]


def body(text: str) -> dict:
    return {"model": "fake", "messages": [{"role": "user", "content": text}], "max_tokens": 64, "temperature": 0}


async def baseline(url: str, texts: list[str], concurrency: int) -> tuple[float, int]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="unused", max_retries=5,
                         http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)))
    slots = asyncio.Semaphore(concurrency)

    async def one(text: str) -> None:
        async with slots:
            await client.chat.completions.create(**body(text))

    started = time.perf_counter()
    await asyncio.gather(*(one(t) for t in texts))
    seconds = time.perf_counter() - started
    await client.close()
    return seconds, len(texts)


async def bare(url: str, texts: list[str], concurrency: int) -> tuple[float, int]:
    """The least a Python client does per request: send, read and decode; no cache, retries or accounting."""
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(text: str) -> None:
            async with slots, session.post(f"{url}/chat/completions", json=body(text)) as response:
                await response.json()

        started = time.perf_counter()
        await asyncio.gather(*(one(t) for t in texts))
        return time.perf_counter() - started, len(texts)


async def ours(url: str, texts: list[str], concurrency: int, cache_path: Path) -> tuple[float, int]:
    backend = OpenAIBackend(BackendConfig(kind="openai", base_url=url, model="fake", concurrency=concurrency), None)
    cache = RequestCache(cache_path)
    client = Client(backend, cache, None)
    started = time.perf_counter()
    await asyncio.gather(*(client.ask(ChatRequest((("user", t),), max_tokens=64)) for t in texts))
    seconds = time.perf_counter() - started
    await backend.aclose()
    cache.close()
    return seconds, client.usage.requests_sent


@dataclass
class Row:
    label: str
    seconds: float
    sent: int
    client_cpu_s: float  # this process
    server_cpu_s: float  # the fake server's process


def measure(label: str, run: Callable[[], Awaitable[tuple[float, int]]], server: psutil.Process) -> Row:
    server_before, client_before = sum(server.cpu_times()[:2]), time.process_time()
    seconds, sent = asyncio.run(run())
    return Row(label, seconds, sent, time.process_time() - client_before, sum(server.cpu_times()[:2]) - server_before)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="500 requests (under a minute)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    n, concurrency = (500 if args.quick else args.requests), args.concurrency
    ideal = concurrency / LATENCY
    load_before = psutil.getloadavg()[0]  # other work on the machine takes cores from both processes
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/v1"
    texts = prompts(n)
    try:
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder) / "cache.sqlite"
            process = psutil.Process(server.pid)
            rows = [
                measure("openai AsyncOpenAI (base)", lambda: baseline(url, [f"base {t}" for t in texts], concurrency),
                        process),
                measure("bare aiohttp loop (ref.)", lambda: bare(url, [f"bare {t}" for t in texts], concurrency),
                        process),
                measure("medadapt client", lambda: ours(url, texts, concurrency, cache), process),
                measure("medadapt client, cached", lambda: ours(url, texts, concurrency, cache), process),
            ]
    finally:
        server.terminate()
        server.wait()
    print(f"{n} requests, {LATENCY * 1000:.0f} ms latency, concurrency {concurrency}; ideal {ideal:.0f} req/s; "
          f"{psutil.cpu_count()} cores, load before {load_before:.1f}")
    print(f"{'client':<28}{'seconds':>9}{'req/s':>8}{'sent':>6}{'client CPU':>12}{'server CPU':>12}  (ms per request)")
    for row in rows:
        print(f"{row.label:<28}{row.seconds:>9.2f}{n / row.seconds:>8.0f}{row.sent:>6}"
              f"{1000 * row.client_cpu_s / n:>12.3f}{1000 * row.server_cpu_s / n:>12.3f}")
    if rows[-1].sent:
        print(f"ERROR: the second pass sent {rows[-1].sent} requests")
    print(f"{(n / rows[2].seconds) / ideal:.3f}")


if __name__ == "__main__":
    main()
