"""The local transformers backend: batched greedy generation gives what one-by-one generation gives, and
requests that arrive together are batched."""

from __future__ import annotations

import asyncio

from medadapt.llm.backend import ChatRequest
from medadapt.llm.local_backend import LocalBackend


def requests(n: int) -> list[ChatRequest]:
    return [ChatRequest((("user", "Why rest with a fever?" + " really" * i),), max_tokens=6) for i in range(n)]


def test_batched_generation_matches_one_by_one(tiny_model_dir):
    backend = LocalBackend(str(tiny_model_dir), batch_size=4)
    batched = backend.generate(requests(4))
    single = [backend.generate([r])[0] for r in requests(4)]
    assert [c.text for c in batched] == [c.text for c in single]
    assert all(c.completion_tokens <= 6 and c.prompt_tokens > 0 for c in batched)
    assert all(c.finish_reason in ("stop", "length") for c in batched)


def test_concurrent_requests_are_batched(tiny_model_dir):
    backend = LocalBackend(str(tiny_model_dir), batch_size=3)
    sizes = []
    generate = backend.generate
    backend.generate = lambda batch: sizes.append(len(batch)) or generate(batch)

    async def ask_all():
        return await asyncio.gather(*(backend.complete(r) for r in requests(7)))

    assert len(asyncio.run(ask_all())) == 7
    assert sizes == [3, 3, 1]
