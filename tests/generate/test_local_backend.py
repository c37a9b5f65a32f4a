"""The local transformers backend: batched greedy generation gives what one-by-one generation gives, and the
stage runs offline on it (a second run is served entirely from the cache)."""

from __future__ import annotations

import asyncio
import json

import yaml
from generate_helpers import qa_rows, read_jsonl, run_generate, write_records

from medadapt.generate.backend import ChatRequest
from medadapt.generate.local_backend import LocalBackend


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


def test_stage_on_the_local_backend_then_from_cache(tmp_path, tiny_model_dir):
    data = write_records(tmp_path / "qa.jsonl", qa_rows(5))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "gen", "languages": ["en"], "model": str(tiny_model_dir),
        "generate": {"backend": {"kind": "local", "batch_size": 4},
                     "tasks": [{"task": "expand", "input": str(data), "limit": 4, "max_new_tokens": 8}]},
    }), encoding="utf-8")
    runs = tmp_path / "runs"
    assert run_generate(recipe, runs) == 0
    out = runs / "gen" / "generate"
    stats = json.loads((out / "stats.json").read_text())
    assert stats["requests"]["requests_sent"] == 4 and stats["requests"]["cost_usd"] == 0
    outcomes = read_jsonl(out / "expand.jsonl") + read_jsonl(out / "rejected.jsonl")
    assert len(outcomes) == 4  # a random tiny model's text is kept or quarantined, never lost
    assert run_generate(recipe, runs, "--force") == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["requests"]["requests_sent"] == 0 and stats["requests"]["requests_cached"] == 4
