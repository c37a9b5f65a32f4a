"""kill -9 in the middle of a crawl (a real child process, a real signal), then resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from crawl_helpers import run_crawl, write_recipe

from medadapt.records.jsonl import iter_jsonl


def _crawl_process(recipe, runs) -> subprocess.Popen:
    command = [sys.executable, "-m", "medadapt.cli", "crawl", str(recipe), "--runs-dir", str(runs)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})


def test_kill_9_then_resume_gives_the_same_pages_and_fetches_nothing_twice(tmp_path, fixture_server):
    # slow enough (one request at a time, 10 ms apart) that the kill lands in the middle
    recipe = write_recipe(tmp_path, fixture_server.base, per_host_concurrency=1, per_host_delay=0.01)
    runs = tmp_path / "runs"
    child = _crawl_process(recipe, runs)
    deadline = time.monotonic() + 60
    while sum(p.startswith("/q/") for p, _ in fixture_server.log) < 60:
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    before_kill = len(fixture_server.log)

    state = sqlite3.connect(runs / "crawltest" / "crawl-state" / "frontier.sqlite")
    done = {url.split("/", 3)[3] for (url,) in state.execute("SELECT url FROM urls WHERE status != 'pending'")}
    pending = state.execute("SELECT COUNT(*) FROM urls WHERE status = 'pending'").fetchone()[0]
    state.close()
    assert len(done) >= 40 and pending > 0  # killed mid-crawl, with work committed and work left

    resumed = _crawl_process(recipe, runs)
    assert resumed.wait(timeout=120) == 0, resumed.stderr.read().decode()
    after_kill = [path.lstrip("/") for path, _ in fixture_server.log[before_kill:]]
    assert not set(after_kill) & done, "a URL committed before the kill was fetched again"
    assert "robots.txt" not in after_kill
    fetched_twice = [p for p in set(after_kill) if (p in {q.lstrip("/") for q, _ in fixture_server.log[:before_kill]})]
    assert len(fetched_twice) <= 1  # at most the one request in flight when the signal hit, never committed

    (tmp_path / "clean").mkdir()
    uninterrupted = run_crawl(write_recipe(tmp_path / "clean", fixture_server.base), tmp_path / "clean-runs").run.stage_dir("crawl")
    killed = runs / "crawltest" / "crawl"
    for name in ("qa.jsonl", "articles.jsonl"):
        got = {(r["id"], r.get("question") or r["title"]) for r in iter_jsonl(killed / name)}
        want = {(r["id"], r.get("question") or r["title"]) for r in iter_jsonl(uninterrupted / name)}
        assert got == want and got
