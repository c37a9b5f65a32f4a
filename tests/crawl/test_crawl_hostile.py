"""The hostile fixture: slow pages, 429 + Retry-After, 500s, redirect loops, 50 MB, windows-1256, truncated HTML."""

from __future__ import annotations

from crawl_helpers import run_crawl, write_recipe

from medadapt.records.jsonl import iter_jsonl


def test_hostile_site_every_url_ends_as_a_record_or_a_failure_with_a_reason(tmp_path, hostile_server):
    recipe = write_recipe(tmp_path, hostile_server.base, timeout=0.5, retries=2, backoff=0.05,
                          max_bytes=1_000_000, max_redirects=4)
    out = run_crawl(recipe, tmp_path / "runs").run.stage_dir("crawl")
    qa = {r["url"].split("/", 3)[3]: r for r in iter_jsonl(out / "qa.jsonl")}
    failures: dict[str, list[str]] = {}
    for f in iter_jsonl(out / "failures.jsonl"):
        assert f["reason"] and f["step"]
        failures.setdefault(f["url"].split("/", 3)[3], []).append(f["reason"])

    for n in range(9001, 9020):
        path = f"q/{n}"
        assert path in qa or path in failures or n in (9011, 9018), f"{path} vanished"
    assert "ي" in qa["q/9001"]["question"] and "ي" in qa["q/9002"]["question"]  # windows-1256, declared or not
    assert "q/9003" in qa and "q/9019" in qa  # broken bytes, unclosed tags: still read
    assert "q/9005" in qa and "q/9007" in qa and "q/9008" in qa  # slow, 429 then OK, two 500s then OK
    assert any("timed out" in r or "timeout" in r for r in failures["q/9006"])
    assert any("HTTP 503" in r and "3 attempts" in r for r in failures["q/9009"])
    assert any("redirect loop" in r for r in failures["q/9010"])
    assert any("more than 4 redirects" in r for r in failures["q/9012"])
    assert any("too large" in r for r in failures["q/9013"])
    assert any("connection error" in r for r in failures["q/9014"])
    assert any("HTTP 404" in r for r in failures["q/9015"])
    assert failures["q/9016"] and "q/9016" not in qa  # random bytes as text/html: a reason, no record
    assert any("question: selector" in r for r in failures["q/9017"])
    assert "q/1" in qa  # reached by the 301 from 9018 or by the related links, fetched once either way
    assert hostile_server.requested("/q/1") == 1

    paths = [p for p, _ in hostile_server.log]
    assert "/q/private/1" not in paths and any(p.startswith("q/private") for p in failures)
    assert hostile_server.requested("/q/9007") == 2  # one 429, then the page after Retry-After: 1
    first, second = hostile_server.times["/q/9007"]
    assert second - first >= 1.0
    assert len(qa) >= 150  # the 1-in-17 first-request 500s on ordinary pages were retried
