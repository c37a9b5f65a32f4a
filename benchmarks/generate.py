"""Throughput of the generate client against the fake OpenAI-compatible server (50 ms per answer).

Baseline: the official ``openai`` AsyncOpenAI client with the same concurrency limit, no cache. Ours:
medadapt's client (httpx, retries, SQLite cache, usage accounting). The ideal is concurrency / latency.
A second pass over the same requests must be served from the cache (0 requests sent).
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
from pathlib import Path

import httpx

from medadapt.generate.backend import ChatRequest
from medadapt.generate.cache import RequestCache
from medadapt.generate.client import Client
from medadapt.generate.config import BackendConfig
from medadapt.generate.http_backend import OpenAIBackend

LATENCY = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "medadapt.generate.fake_server", "--port", str(port),
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


async def baseline(url: str, texts: list[str], concurrency: int) -> float:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="unused", max_retries=5,
                         http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)))
    slots = asyncio.Semaphore(concurrency)

    async def one(text: str) -> None:
        async with slots:
            await client.chat.completions.create(model="fake", messages=[{"role": "user", "content": text}],
                                                 max_tokens=64, temperature=0)

    started = time.perf_counter()
    await asyncio.gather(*(one(t) for t in texts))
    seconds = time.perf_counter() - started
    await client.close()
    return seconds


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="500 requests (under a minute)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    n = 500 if args.quick else args.requests
    ideal = args.concurrency / LATENCY
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        with tempfile.TemporaryDirectory() as folder:
            base_s = asyncio.run(baseline(url, [f"baseline {t}" for t in prompts(n)], args.concurrency))
            ours_s, sent = asyncio.run(ours(url, prompts(n), args.concurrency, Path(folder) / "cache.sqlite"))
            cached_s, sent_again = asyncio.run(ours(url, prompts(n), args.concurrency, Path(folder) / "cache.sqlite"))
    finally:
        server.terminate()
        server.wait()
    print(f"{n} requests, {LATENCY * 1000:.0f} ms latency, concurrency {args.concurrency}; ideal {ideal:.0f} req/s")
    print(f"{'client':<28}{'seconds':>10}{'req/s':>10}{'sent':>8}")
    print(f"{'openai AsyncOpenAI (base)':<28}{base_s:>10.2f}{n / base_s:>10.0f}{n:>8}")
    print(f"{'medadapt client':<28}{ours_s:>10.2f}{n / ours_s:>10.0f}{sent:>8}")
    print(f"{'medadapt client, cached':<28}{cached_s:>10.2f}{n / cached_s:>10.0f}{sent_again:>8}")
    if sent_again:
        print(f"ERROR: the second pass sent {sent_again} requests")
    print(f"{(n / ours_s) / ideal:.3f}")


if __name__ == "__main__":
    main()
