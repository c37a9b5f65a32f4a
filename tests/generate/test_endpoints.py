"""generate over several OpenAI-compatible servers (``base_url`` as a list), one of which fails mid-run:
killed (its port then refuses connections), answering 500, or timing out. No item is lost, no prompt is
answered twice by any server nor sent twice to a healthy one, the output equals a single-server run's, and
stats.json and the manifest count what each server answered. A re-run sends nothing (one shared cache)."""

from __future__ import annotations

import json
from contextlib import ExitStack

import pytest
from generate_helpers import API_KEY, qa_rows, read_jsonl, run_generate, write_recipe, write_records

from medadapt.llm.config import BackendConfig
from medadapt.llm.endpoints import Endpoints
from medadapt.llm.fake_server import FakeOpenAI, serve

ITEMS = 30
FAIL_AFTER = 4  # requests the failing server answers before it fails: well before its share of 10


def failing_server(mode: str) -> FakeOpenAI:
    if mode == "killed":
        return FakeOpenAI(latency_s=0.01, kill_after=FAIL_AFTER)
    return FakeOpenAI(latency_s=0.01, timeout_s=3.0, faults=lambda n, body: mode if n >= FAIL_AFTER else None)


def generate_with(tmp_path, name: str, servers: list[FakeOpenAI], **backend) -> tuple[list[dict], dict, dict, list[str]]:
    """Run generate on ``servers``; (expand.jsonl rows, stats.json, the manifest's summary, the URLs)."""
    folder = tmp_path / name
    folder.mkdir()
    data = write_records(tmp_path / "qa.jsonl", qa_rows(ITEMS))
    with ExitStack() as stack:
        urls = [stack.enter_context(serve(server)) for server in servers]
        recipe = write_recipe(folder, urls if len(urls) > 1 else urls[0], [{"task": "expand", "input": str(data)}],
                              concurrency=2, timeout_s=1.0, **backend)
        out = folder / "runs" / "gen" / "generate"
        assert run_generate(recipe, folder / "runs") == 0
        manifest = json.loads((folder / "runs" / "gen" / "manifest.json").read_text())
        result = (read_jsonl(out / "expand.jsonl"), json.loads((out / "stats.json").read_text()),
                  manifest["stages"]["generate"]["summary"], urls)
        sent_before_rerun = [len(server.log) for server in servers]
        assert run_generate(recipe, folder / "runs", "--force") == 0
        assert [len(server.log) for server in servers] == sent_before_rerun  # all from the shared cache
        assert read_jsonl(out / "expand.jsonl") == result[0]
    return result


@pytest.mark.parametrize("mode", ["killed", "500", "timeout"])
def test_one_server_failing_mid_run_loses_nothing_and_repeats_nothing(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    healthy = [FakeOpenAI(latency_s=0.01), FakeOpenAI(latency_s=0.01)]
    failing = failing_server(mode)
    rows, stats, summary, urls = generate_with(tmp_path, "three", [healthy[0], failing, healthy[1]],
                                               endpoint_cooldown_s=60)
    single_rows, single_stats, _, _ = generate_with(tmp_path, "one", [FakeOpenAI(latency_s=0.01)])

    assert rows == single_rows and len(rows) == ITEMS  # 0 lost, same output as one server
    answered = {"killed": failing.answered, "500": failing.prompts()[:FAIL_AFTER],
                "timeout": failing.prompts()[:FAIL_AFTER]}[mode]
    for server in healthy:
        assert len(server.prompts()) == len(set(server.prompts()))  # nothing sent twice to a healthy server
        assert all(entry["fault"] is None for entry in server.log)
    every_answer = healthy[0].prompts() + answered + healthy[1].prompts()
    assert len(every_answer) == len(set(every_answer)) == ITEMS  # each prompt answered exactly once
    assert len(answered) == FAIL_AFTER  # it failed mid-run, after answering its first requests
    assert failing.log[FAIL_AFTER:] or failing.killed  # and the requests after that failed on it

    counts = stats["endpoints"]
    assert list(counts) == urls
    assert [counts[url]["answered"] for url in urls] == [len(healthy[0].log), FAIL_AFTER, len(healthy[1].log)]
    assert counts[urls[1]]["failed"] >= 1 and counts[urls[1]]["taken_out"] == 1  # out once, for the cooldown
    assert all(counts[url]["failed"] == 0 for url in (urls[0], urls[2]))
    assert summary["answered_by_endpoint"] == {url: counts[url]["answered"] for url in urls}
    assert stats["requests"]["requests_sent"] == single_stats["requests"]["requests_sent"] == ITEMS


def test_a_server_left_out_comes_back_after_its_cooldown():
    now = [0.0]
    endpoints = Endpoints(["http://a/v1", "http://b/v1"], concurrency=1, cooldown_s=10, clock=lambda: now[0])
    a, b = endpoints.all
    a.assigned = 1
    assert endpoints.pick() is b  # the least busy
    endpoints.take_out(b)
    assert endpoints.pick() is a and endpoints.pick(avoid=a) is a  # b is out: a, even when it just failed
    endpoints.take_out(a)
    now[0] = 5.0
    endpoints.take_out(a)  # failed again while out: its cooldown starts over, still counted as one removal
    assert endpoints.pick() is b and endpoints.usable(a)  # all out: the one back soonest (b, at 10); any will do
    now[0] = 10.0
    assert endpoints.pick() is b and endpoints.usable(b) and not endpoints.has_other_healthy(b)
    now[0] = 15.0
    assert endpoints.has_other_healthy(b)
    assert endpoints.counts() == {"http://a/v1": {"answered": 0, "failed": 0, "taken_out": 1},
                                  "http://b/v1": {"answered": 0, "failed": 0, "taken_out": 1}}


def test_base_url_takes_one_url_or_a_list():
    assert BackendConfig(base_url="http://a/v1", model="m").base_urls == ["http://a/v1"]
    assert BackendConfig(base_url=["http://a/v1", "http://b/v1"], model="m").base_urls == ["http://a/v1", "http://b/v1"]
    for wrong in ([], ["http://a/v1", "http://a/v1"]):
        with pytest.raises(ValueError, match="base_url"):
            BackendConfig(base_url=wrong, model="m")
