"""A curate run killed with SIGKILL mid-way resumes from its checkpoint: finished steps are not redone,
and the outputs are byte-identical to those of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from curate_helpers import make_project

# Run the real CLI in a child process; the PII step (the 10th of 11) first drops a marker and then hangs,
# so the parent can kill the child at a known point. NormalizeStep.apply calls are logged to show which
# steps actually ran in each process.
CHILD = """
import sys, time
from pathlib import Path
from medadapt.curate import steps

marker, log, hang = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "hang"
real_normalize = steps.NormalizeStep.apply

def logged_normalize(self, docs):
    with log.open("a") as handle:
        handle.write("normalize ran\\n")
    return real_normalize(self, docs)

def hanging_pii(self, docs):
    marker.write_text("in pii")
    time.sleep(600)

steps.NormalizeStep.apply = logged_normalize
if hang:
    steps.PIIStep.apply = hanging_pii
sys.argv = ["medadapt", "curate", *sys.argv[4:]]
from medadapt.cli.main import main
main()
"""


def _child(tmp: Path, recipe: Path, runs: Path, hang: bool) -> subprocess.Popen:
    args = [str(tmp / "marker"), str(tmp / "log"), "hang" if hang else "run", str(recipe), "--runs-dir", str(runs)]
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _outputs(stage_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(stage_dir)): p.read_bytes() for p in sorted(stage_dir.rglob("*")) if p.suffix in (".jsonl", ".json")}


def test_resume_after_kill_9_gives_identical_outputs(tmp_path):
    recipe = make_project(tmp_path, n_qa=300)
    runs = tmp_path / "runs"

    victim = _child(tmp_path, recipe, runs, hang=True)
    deadline = time.monotonic() + 90
    while not (tmp_path / "marker").exists():
        assert victim.poll() is None, victim.communicate()[0]
        assert time.monotonic() < deadline, "the child never reached the PII step"
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    checkpoint = runs / "curated" / "curate-state" / "checkpoint"
    finished = sorted(p.name for p in checkpoint.iterdir() if (p / "summary.json").is_file())
    assert finished[0] == "00-normalize" and finished[-1] == "07-knowledge_density" and len(finished) == 8
    assert not (runs / "curated" / "curate").exists()

    (tmp_path / "log").unlink()
    resumed = _child(tmp_path, recipe, runs, hang=False)
    output = resumed.communicate(timeout=120)[0]
    assert resumed.returncode == 0, output
    assert "(from checkpoint)" in output
    assert not (tmp_path / "log").exists()  # normalisation was not done a second time
    assert not checkpoint.exists()

    clean_runs = tmp_path / "clean"
    clean = _child(tmp_path, recipe, clean_runs, hang=False)
    assert clean.communicate(timeout=120)[0] and clean.returncode == 0
    resumed_files = _outputs(runs / "curated" / "curate")
    assert resumed_files == _outputs(clean_runs / "curated" / "curate")
    assert {"qa/train.jsonl", "qa/test.jsonl", "rejected.jsonl", "stats.json"} <= set(resumed_files)
