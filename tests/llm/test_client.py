"""The client in front of every backend: the cache answers first, identical requests in flight share one
call, failures are not stored, and the budget stops new requests before they are sent."""

from __future__ import annotations

import asyncio

import pytest

from medadapt.llm.backend import Backend, ChatRequest, Completion
from medadapt.llm.cache import RequestCache
from medadapt.llm.client import Budget, Client
from medadapt.llm.config import BackendConfig, Price
from medadapt.llm.errors import BudgetReached, LLMError, RequestFailed
from medadapt.llm.factory import make_backend
from medadapt.llm.pricing import price_for


class Counting(Backend):
    kind = "test"
    model = "m"

    def __init__(self, fail: bool = False):
        self.calls = 0
        self.fail = fail

    async def complete(self, request: ChatRequest) -> Completion:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.fail:
            raise RequestFailed("down")
        return Completion(f"answer to {request.messages[-1][1]}", "stop", prompt_tokens=1000, completion_tokens=500)


def ask(n: int) -> ChatRequest:
    return ChatRequest((("user", f"q{n}"),), max_tokens=8)


def test_cache_and_in_flight_sharing_then_a_reopened_cache_answers_alone(tmp_path):
    backend = Counting()
    cache = RequestCache(tmp_path / "cache.sqlite")
    client = Client(backend, cache, Price(input_per_mtok=1, output_per_mtok=2))

    async def run() -> list[Completion]:
        return await asyncio.gather(client.ask(ask(1)), client.ask(ask(1)), client.ask(ask(2)))

    answers = asyncio.run(run())
    assert [a.text for a in answers] == ["answer to q1", "answer to q1", "answer to q2"]
    assert backend.calls == 2 and client.usage.requests_sent == 2 and client.usage.requests_cached == 1
    assert client.usage.cost_usd == pytest.approx(2 * (1000 * 1 + 500 * 2) / 1e6)
    cache.close()
    again = Client(Counting(), RequestCache(tmp_path / "cache.sqlite"), None)
    assert asyncio.run(again.ask(ask(2))).text == "answer to q2" and again.backend.calls == 0
    again.cache.close()


def test_failures_are_not_stored_and_the_budget_stops_before_sending(tmp_path):
    cache = RequestCache(tmp_path / "cache.sqlite")
    failing = Client(Counting(fail=True), cache, None)
    with pytest.raises(RequestFailed):
        asyncio.run(failing.ask(ask(1)))
    assert len(cache) == 0 and failing.usage.requests_failed == 1
    limited = Client(Counting(), cache, None, Budget(max_requests=1))
    asyncio.run(limited.ask(ask(1)))
    with pytest.raises(BudgetReached, match="--max-requests 1 reached"):
        asyncio.run(limited.ask(ask(2)))
    assert limited.backend.calls == 1
    cache.close()


def test_factory_reads_the_key_from_the_environment_only(monkeypatch, tmp_path):
    config = BackendConfig(kind="openai", base_url="http://127.0.0.1:9/v1", model="m", api_key_env="MEDADAPT_K")
    monkeypatch.delenv("MEDADAPT_K", raising=False)
    with pytest.raises(LLMError, match="environment variable MEDADAPT_K is not set"):
        make_backend(config, "m", None, tmp_path)
    monkeypatch.setenv("MEDADAPT_K", "secret")
    backend = make_backend(config, "m", None, tmp_path)
    assert backend.kind == "openai" and backend._headers == {"Authorization": "Bearer secret"}
    assert price_for(BackendConfig(kind="local"), "m") == Price(input_per_mtok=0, output_per_mtok=0)
