"""The one door to a backend: the cache first, then the budget, then the request; usage is counted here."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from medadapt.llm.backend import Backend, ChatRequest, Completion, request_key
from medadapt.llm.cache import RequestCache
from medadapt.llm.config import Price
from medadapt.llm.errors import BudgetReached
from medadapt.llm.pricing import cost


@dataclass
class Usage:
    requests_sent: int = 0
    requests_cached: int = 0
    requests_failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "cost_usd": round(self.cost_usd, 6)}


@dataclass
class Budget:
    """One session's limits, shared by every client it is given to (a task's second judge spends from the
    same budget); ``started`` counts the requests sent or in flight in this session."""

    max_requests: int | None = None
    max_cost: float | None = None
    started: int = 0

    def check(self, usage: Usage) -> None:
        """Raise BudgetReached before a request that the budget no longer allows."""
        if self.max_requests is not None and self.started >= self.max_requests:
            raise BudgetReached(f"--max-requests {self.max_requests} reached")
        if self.max_cost is not None and usage.cost_usd >= self.max_cost:
            raise BudgetReached(f"--max-cost {self.max_cost:g} reached (spent {usage.cost_usd:.4f} USD)")


class Client:
    def __init__(self, backend: Backend, cache: RequestCache, price: Price | None, budget: Budget | None = None,
                 usage: Usage | None = None):
        self.backend = backend
        self.cache = cache
        self.price = price
        self.budget = budget or Budget()
        self.usage = usage or Usage()  # shared with the clients of the same session when given
        self._in_flight: dict[str, asyncio.Future] = {}

    async def ask(self, request: ChatRequest) -> Completion:
        """The stored answer, or a new one (stored before it is returned). Identical requests in flight share
        one call."""
        key = request_key(self.backend.kind, self.backend.model, request)
        if (stored := self.cache.get(key)) is not None:
            self.usage.requests_cached += 1
            return stored
        if key in self._in_flight:
            self.usage.requests_cached += 1
            return await asyncio.shield(self._in_flight[key])
        self.budget.check(self.usage)
        self.budget.started += 1
        future = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            completion = await self.backend.complete(request)
        except BaseException as exc:
            self.usage.requests_failed += 1
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            else:
                future.cancel()
            raise
        finally:
            del self._in_flight[key]
        completion.cost = cost(self.price, completion.prompt_tokens, completion.completion_tokens)
        self.cache.put(key, self.backend.kind, self.backend.model, request, completion)
        self.usage.requests_sent += 1
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        self.usage.cost_usd += completion.cost
        future.set_result(completion)
        return completion
