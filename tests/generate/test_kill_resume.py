"""kill -9 during a 500-request job (a real subprocess), then a re-run: no request whose answer was stored is
sent again, only what was in flight is asked twice, and the output has all 500 records."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from generate_helpers import API_KEY, qa_rows, read_jsonl, run_generate, write_recipe, write_records

CONCURRENCY = 8


def stored_prompts(cache) -> set[str]:
    db = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        return {json.loads(m)[-1]["content"] for (m,) in db.execute("SELECT messages FROM responses")}
    except sqlite3.OperationalError:  # the subprocess has not created the table yet
        return set()
    finally:
        db.close()


def test_kill_9_then_rerun_asks_nothing_twice(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    fake.latency_s = 0.02
    data = write_records(tmp_path / "qa.jsonl", qa_rows(500))
    recipe = write_recipe(tmp_path, fake.url, [{"task": "expand", "input": str(data)}], concurrency=CONCURRENCY)
    runs = tmp_path / "runs"
    cache = runs / "gen" / "generate-state" / "cache.sqlite"
    env = {**os.environ, "MEDADAPT_TEST_KEY": API_KEY, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "medadapt.cli", "generate", str(recipe), "--runs-dir", str(runs)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if cache.is_file() and len(stored_prompts(cache)) >= 100:
            break
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read().decode()[-2000:]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    stored = stored_prompts(cache)
    assert 100 <= len(stored) < 500
    asked_before = len(fake.log)
    assert run_generate(recipe, runs) == 0

    asked_again = fake.prompts()[asked_before:]
    assert not set(asked_again) & stored  # nothing whose answer was stored is asked again
    assert len(asked_again) == 500 - len(stored)
    everything = fake.prompts()
    assert len(set(everything)) == 500 and len(everything) - 500 <= CONCURRENCY  # only in-flight ones twice
    rows = read_jsonl(runs / "gen" / "generate" / "expand.jsonl")
    assert [r["id"] for r in rows] == [f"q{i}-expanded" for i in range(500)]
    stats = json.loads((runs / "gen" / "generate" / "stats.json").read_text())
    assert stats["requests"]["requests_cached"] == len(stored) and stats["cache_entries"] == 500
