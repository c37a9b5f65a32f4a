"""curate's datatrove engine on datatrove's Ray executor, against a real Ray cluster started here (2 CPUs):
the stage gives the same files as in-process, and a run whose driver is killed with tasks half done restarts
skipping the tasks that had finished, with the in-process result. The cluster wants a token
(``ray_cluster`` says why), so the drivers run as Ray documents for such a cluster, and one without the token
is told what to set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("datatrove", reason="the scale extra (datatrove) is not installed")
pytest.importorskip("ray", reason="the ray extra is not installed")

from curate_helpers import make_project  # noqa: E402
from ray_cluster import answer_length, docs, driver_environment, local_ray_cluster, ray_engine  # noqa: E402
from rich.console import Console  # noqa: E402

from medadapt.curate.stage import CurateStage  # noqa: E402
from medadapt.records.jsonl import iter_jsonl  # noqa: E402
from medadapt.recipe import load_recipe  # noqa: E402
from medadapt.runs import run_stages  # noqa: E402

HERE = Path(__file__).parent
TASKS = 3
DRIVER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ray_cluster import answer_length, docs, ray_engine
ray_engine(sys.argv[2], int(sys.argv[3]), 1).apply(answer_length(), docs(), Path(sys.argv[4]))
"""


@pytest.fixture(scope="module")
def cluster():
    """The cluster, with this process's environment set to be let in (the in-process drivers)."""
    with local_ray_cluster(num_cpus=2) as started, pytest.MonkeyPatch.context() as env:
        env.delenv("RAY_AUTH_TOKEN", raising=False)
        for name, value in started.auth.items():
            env.setenv(name, value)
        _reread_ray_environment()
        yield started
    _reread_ray_environment()


def _reread_ray_environment() -> None:
    """Ray caches RAY_AUTH_MODE and the token on first use; re-read them as Ray itself does after setting them
    (``authentication_token_setup._enable_token_auth``), so the drivers in this process see the cluster's."""
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


@pytest.fixture(scope="module")
def ray_address(cluster):
    return cluster.address


STEPS = """\
  steps:
    - {step: normalize}
    - {step: exact_dedup}
    - {step: answer_length, min_words: 10}
    - {step: pii}
"""


def test_stage_on_ray_matches_in_process(tmp_path, ray_address):
    recipe = make_project(tmp_path)
    base = recipe.read_text(encoding="utf-8")
    base = base[: base.index("  steps:")] + STEPS + base[base.index("  split:"):]
    engines = {"inprocess": "", "ray": ("  engine: {kind: datatrove, executor: ray, tasks: 2, workers: 2, "
                                        f"ray: {{address: '{ray_address}', mem_per_cpu_gb: 0.25}}}}\n")}
    outputs = {}
    for kind, engine in engines.items():
        path = tmp_path / f"{kind}.yaml"
        path.write_text(base + engine, encoding="utf-8")
        result = run_stages([CurateStage()], load_recipe(path), path, tmp_path / kind, console=Console(quiet=True))
        out = result.run.stage_dir("curate")
        outputs[kind] = {p.relative_to(out).as_posix(): list(iter_jsonl(p)) for p in sorted(out.rglob("*.jsonl"))}
    assert outputs["ray"] == outputs["inprocess"] and outputs["ray"]["qa/train.jsonl"]


def _completed(work: Path) -> set[str]:
    folder = work / "logs" / "completions"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _settled(work: Path, quiet_s: float = 3.0, limit_s: float = 60.0) -> set[str]:
    """The completed tasks once no new marker has appeared for ``quiet_s`` (the cluster has stopped what the
    dead driver had started)."""
    deadline, seen, since = time.monotonic() + limit_s, _completed(work), time.monotonic()
    while time.monotonic() - since < quiet_s and time.monotonic() < deadline:
        time.sleep(0.2)
        if (now := _completed(work)) != seen:
            seen, since = now, time.monotonic()
    return seen


def test_killed_driver_restarts_skipping_finished_tasks(tmp_path, ray_address):
    work = tmp_path / "work"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(HERE), ray_address, str(TASKS), str(work)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=driver_environment({}))
    try:
        deadline = time.monotonic() + 120
        while not _completed(work) and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert driver.poll() is None, "the driver ended before it could be killed"
        os.kill(driver.pid, signal.SIGKILL)  # one task finished, the others not yet
    finally:
        if driver.poll() is None:
            driver.kill()
        driver.wait()
    finished = _settled(work)
    assert finished and len(finished) < TASKS
    before = {rank: (work / "kept" / f"{rank}.jsonl").stat().st_mtime_ns for rank in finished}

    result = ray_engine(ray_address, TASKS, 2).apply(answer_length(), docs(), work)

    expected = answer_length().apply(docs())
    assert [d.id for d in result.kept] == [d.id for d in expected.kept]
    assert [r.doc.id for r in result.rejected] == [r.doc.id for r in expected.rejected]
    assert _completed(work) == {f"{rank:05d}" for rank in range(TASKS)}
    assert {rank: (work / "kept" / f"{rank}.jsonl").stat().st_mtime_ns for rank in finished} == before  # skipped


REFUSED = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ray_cluster import answer_length, docs, ray_engine
from medadapt.curate.errors import EngineError
try:
    ray_engine(sys.argv[2], 1, 1).apply(answer_length(), docs(3), Path(sys.argv[3]))
except EngineError as exc:
    print(exc.one_line())
"""


def test_a_driver_without_the_token_is_told_how_to_get_in(tmp_path, cluster):
    """Without RAY_AUTH_MODE=token the cluster refuses the driver, which Ray reports as no cluster at all; the
    error says what to set (Ray's retries shortened to 2 s)."""
    env = {**driver_environment({}), "RAY_gcs_server_port_wait_time_s": "2"}
    env.pop("RAY_AUTH_MODE", None), env.pop("RAY_AUTH_TOKEN_PATH", None)
    done = subprocess.run([sys.executable, "-c", REFUSED, str(HERE), cluster.address, str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert "requires an authentication token: set RAY_AUTH_MODE=token" in done.stdout, done.stdout + done.stderr[-2000:]
