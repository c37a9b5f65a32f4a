"""curate's datatrove engine on datatrove's Slurm executor: the job script built from the recipe's keys
(checked without submitting), the one-line error where Slurm is absent, and a run on a real single-node
Slurm (Debian's slurmctld + slurmd + munge, started here) that gives the in-process result and, restarted
after a task was lost, submits only that task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("datatrove", reason="the scale extra (datatrove) is not installed")

from curate_helpers import ANSWER_FA, make_project, qa, step  # noqa: E402
from local_slurm import local_slurm, missing  # noqa: E402

from medadapt.curate.config import EngineSpec  # noqa: E402
from medadapt.curate.datatrove_step import CurateShard  # noqa: E402
from medadapt.curate.engine import Datatrove  # noqa: E402
from medadapt.curate.executors import slurm_executor  # noqa: E402
from medadapt.curate.steps import StepEnv  # noqa: E402

TASKS = 3


def _docs(n: int = 30):
    return [qa(f"q{i}", f"سوال {i}", ANSWER_FA if i % 3 else "کوتاه است") for i in range(n)]


def _answer_length():
    return step({"step": "answer_length", "min_words": 5}, ["fa"])


def _spec(**slurm) -> EngineSpec:
    return EngineSpec(kind="datatrove", executor="slurm", tasks=TASKS, workers=2,
                      slurm={"partition": "debug", **slurm})


def test_job_script_carries_the_recipe_keys(tmp_path):
    spec = _spec(partition="cpu", time="02:00:00", cpus_per_task=2, mem_per_cpu_gb=3,
                 sbatch_args={"account": "proj42"})
    logs = tmp_path / "logs"
    executor = slurm_executor(spec, [CurateShard(_answer_length().spec, StepEnv(["fa"]), str(tmp_path))], logs,
                              "answer_length")
    # what launch_job submits: the same two calls, with the launcher line it writes for the pickled executor
    script = executor.get_launch_file_contents(executor.get_sbatch_args(TASKS),
                                               f"srun -l -n 1 launch_pickled_pipeline {logs}/executor.pik")
    directives = [line for line in script.splitlines() if line.startswith("#SBATCH")]
    assert directives == [
        "#SBATCH --cpus-per-task=2", "#SBATCH --mem-per-cpu=3G", "#SBATCH --nodes=1", "#SBATCH --partition=cpu",
        "#SBATCH --job-name=medadapt-curate-answer_length", "#SBATCH --time=02:00:00",
        f"#SBATCH --output={logs}/slurm_logs/%A_%a.out", f"#SBATCH --error={logs}/slurm_logs/%A_%a.out",
        "#SBATCH --array=0-2%2", "#SBATCH --account=proj42", "#SBATCH --requeue"]
    assert f"source {Path(sys.prefix) / 'bin' / 'activate'}" in script  # the job gets this environment
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert "qos" not in script  # none given: the partition's default
    custom = slurm_executor(_spec(env_command="module load python/3.11", qos="high"), [], logs, "pii")
    assert "module load python/3.11" in custom.get_launch_file_contents(custom.get_sbatch_args(1), "x")
    assert custom.get_sbatch_args(1)["qos"] == "high"


def test_slurm_without_sbatch_is_one_line_error(tmp_path):
    recipe = make_project(tmp_path)
    recipe.write_text(recipe.read_text(encoding="utf-8")
                      + "  engine: {kind: datatrove, executor: slurm, slurm: {partition: debug}}\n", encoding="utf-8")
    venv_bin = str(Path(sys.executable).parent)
    done = subprocess.run([sys.executable, "-m", "medadapt.cli", "curate", str(recipe), "--runs-dir",
                           str(tmp_path / "runs")], capture_output=True, text=True,
                          env={**os.environ, "PATH": venv_bin})  # no sbatch there
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() + done.stdout.splitlines() if "sbatch" in line]
    assert errors == ["error: curate.engine.executor: slurm needs Slurm's sbatch and squeue on PATH (run curate on "
                      "a Slurm login node, or use executor: local or ray)"]
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(bool(missing()), reason=f"Slurm is not installed ({', '.join(missing())}): `make test` "
                    "installs slurmctld, slurmd, slurm-client and munge when it runs as root")
def test_on_a_real_single_node_slurm_and_restart(tmp_path, monkeypatch):
    with local_slurm(cpus=2) as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        engine = Datatrove(_spec(time="00:10:00", mem_per_cpu_gb=1, poll_s=0.5), StepEnv(["fa"]))
        work = tmp_path / "work"
        expected = _answer_length().apply(_docs())
        result = engine.apply(_answer_length(), _docs(), work)
        assert [d.id for d in result.kept] == [d.id for d in expected.kept]
        assert [r.doc.id for r in result.rejected] == [r.doc.id for r in expected.rejected]
        assert "#SBATCH --array=0-2%2" in (work / "logs" / "launch_script.slurm").read_text()
        assert len(list((work / "logs" / "slurm_logs").glob("*.out"))) == TASKS  # one array element per task

        (work / "logs" / "completions" / "00001").unlink()  # task 1 lost (as if its node died)
        (work / "kept" / "00001.jsonl").unlink()
        again = engine.apply(_answer_length(), _docs(), work)
        assert [d.id for d in again.kept] == [d.id for d in expected.kept]
        assert json.loads((work / "logs" / "ranks_to_run.json").read_text()) == [1]  # only that one resubmitted
        assert "#SBATCH --array=0-0%2" in (work / "logs" / "launch_script.slurm").read_text()


def test_executor_keys_are_checked():
    with pytest.raises(ValueError, match="executor: slurm needs a `slurm:` section"):
        EngineSpec(kind="datatrove", executor="slurm")
    with pytest.raises(ValueError, match="executor: ray is one of datatrove's executors: set kind: datatrove"):
        EngineSpec(executor="ray")
    assert EngineSpec(kind="datatrove", executor="ray").ray.address is None  # ray's own default
