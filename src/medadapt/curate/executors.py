"""datatrove's executors behind curate's datatrove engine: local (a process pool), Ray and Slurm.

Imported only when the engine runs on datatrove. Every executor runs the same one-step pipeline (a
``CurateShard`` per task) with the step's ``logs/`` as datatrove's logging folder, whose ``completions/``
markers make a restarted run skip the tasks that had finished. ``run_tasks`` returns only once every task
has run: Ray's executor and a Slurm job array do not raise when a task dies, so the markers are checked
after them and a missing one is an error that says what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from datatrove.executor import LocalPipelineExecutor, RayPipelineExecutor, SlurmPipelineExecutor

from medadapt.curate.config import EngineSpec
from medadapt.curate.datatrove_step import CurateShard
from medadapt.curate.errors import EngineError
from medadapt.curate.steps import StepEnv


def run_tasks(spec: EngineSpec, step_spec: Any, step_name: str, env: StepEnv, work: Path) -> None:
    """Run the step's ``spec.tasks`` shards on the configured executor and wait for all of them."""
    logs = work / "logs"
    pipeline = [CurateShard(step_spec, env, str(work))]
    if spec.executor == "ray":
        run_on_ray(spec, pipeline, logs)
    elif spec.executor == "slurm":
        run_on_slurm(spec, pipeline, logs, step_name)
    else:
        workers = spec.workers if spec.workers > 0 else spec.tasks
        LocalPipelineExecutor(pipeline, tasks=spec.tasks, workers=workers, logging_dir=str(logs),
                              skip_completed=True).run()
    done = {p.name for p in (logs / "completions").iterdir()} if (logs / "completions").is_dir() else set()
    missing = [rank for rank in range(spec.tasks) if f"{rank:05d}" not in done]
    if missing:
        raise EngineError(f"step {step_name}: {len(missing)} of {spec.tasks} datatrove tasks did not finish "
                          f"(ranks {', '.join(map(str, missing[:10]))}); their logs are in {logs}; run again: "
                          "the finished tasks are skipped")


def run_on_ray(spec: EngineSpec, pipeline: list[Any], logs: Path) -> None:
    """On the cluster at ``ray.address`` (or a private one started here); the driver disconnects after."""
    try:
        import ray
    except ImportError:
        raise EngineError("curate.engine.executor: ray needs Ray (pip install 'medadapt[ray]')") from None
    connected_here = not ray.is_initialized()
    if connected_here:
        address = spec.ray.address
        try:
            ray.init(address=address, log_to_driver=False)
        except ConnectionError as exc:
            raise EngineError(f"curate.engine.ray.address: {_connection_problem(address, exc)}") from None
    try:
        RayPipelineExecutor(pipeline, tasks=spec.tasks, workers=spec.workers, logging_dir=str(logs),
                            skip_completed=True, cpus_per_task=spec.ray.cpus_per_task,
                            mem_per_cpu_gb=spec.ray.mem_per_cpu_gb).run()
    finally:
        if connected_here:
            ray.shutdown()


def _connection_problem(address: str | None, exc: ConnectionError) -> str:
    """Why ``ray.init`` could not join the cluster, in one line. A cluster that refuses the driver's token
    looks like no cluster at all (ConnectionError after Ray's retries); the refusal is in the cause's text.

    Ray (≥ 2.59) turns token authentication on by itself for a cluster started with ``ray start --head``
    once ``~/.ray/auth_token`` exists (``ray.init()`` of a private cluster, ``address: local`` here, writes
    one), but a driver given an explicit address never turns it on by itself: Ray's documented remedy is
    ``RAY_AUTH_MODE=token`` (with the cluster's token at ``~/.ray/auth_token`` or ``RAY_AUTH_TOKEN_PATH``)
    in the driver's environment, which this function says rather than sending a local token to whatever
    address the recipe names.
    """
    cause = str(exc.__cause__ or exc)
    if "Unauthenticated" in cause or "InvalidAuthToken" in cause:
        if os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
            return (f"the Ray cluster at {address} requires an authentication token: set RAY_AUTH_MODE=token "
                    "(and RAY_AUTH_TOKEN_PATH unless the cluster's token is in ~/.ray/auth_token) before running "
                    "curate; see https://docs.ray.io/en/latest/ray-security/token-auth.html")
        return (f"the Ray cluster at {address} refused this machine's authentication token (RAY_AUTH_TOKEN, "
                "RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token): use the cluster's own (`ray get-auth-token` on its head)")
    return f"no Ray cluster at {address}: {exc}"


class CurateSlurmExecutor(SlurmPipelineExecutor):
    """datatrove's Slurm executor without its extra job that merges datatrove's own statistics: curate reads
    the shards' counters itself, and removes the step's folder once it has them."""

    def launch_merge_stats(self) -> None:
        return None


def slurm_executor(spec: EngineSpec, pipeline: list[Any], logs: Path, step_name: str) -> CurateSlurmExecutor:
    """The executor whose job script (``logs/launch_script.slurm``) is submitted with sbatch."""
    slurm = spec.slurm
    assert slurm is not None  # EngineSpec requires it for executor: slurm
    in_venv = sys.prefix != sys.base_prefix
    env_command = slurm.env_command or (f"source {Path(sys.prefix) / 'bin' / 'activate'}" if in_venv else None)
    return CurateSlurmExecutor(
        pipeline, tasks=spec.tasks, workers=spec.workers, time=slurm.time, partition=slurm.partition,
        cpus_per_task=slurm.cpus_per_task, mem_per_cpu_gb=slurm.mem_per_cpu_gb, qos=slurm.qos or "",
        job_name=f"{slurm.job_name}-{step_name}", env_command=env_command, sbatch_args=dict(slurm.sbatch_args),
        logging_dir=str(logs), skip_completed=True)


def run_on_slurm(spec: EngineSpec, pipeline: list[Any], logs: Path, step_name: str) -> None:
    """Submit the job array (only the tasks without a completion marker) and wait until it has left the queue."""
    missing = [tool for tool in ("sbatch", "squeue") if shutil.which(tool) is None]
    if missing:
        raise EngineError(f"curate.engine.executor: slurm needs Slurm's {' and '.join(missing)} on PATH "
                          "(run curate on a Slurm login node, or use executor: local or ray)")
    executor = slurm_executor(spec, pipeline, logs, step_name)
    try:
        executor.run()
    except subprocess.CalledProcessError as exc:
        raise EngineError(f"curate.engine.slurm: sbatch refused the job ({exc}); its script is "
                          f"{logs / 'launch_script.slurm'}") from None
    if executor.job_id in (None, -1):  # every task had completed already
        return
    failures = 0
    while (queued := _queued(str(executor.job_id))) is not False:
        failures = failures + 1 if queued is None else 0
        if failures >= 5:
            raise EngineError(f"curate.engine.slurm: squeue keeps failing while job {executor.job_id} runs; "
                              "run again once Slurm answers: the finished tasks are skipped")
        time.sleep(spec.slurm.poll_s if spec.slurm else 10)


def _queued(job_id: str) -> bool | None:
    """Whether any element of the job array is still pending or running (squeue forgets finished jobs, and
    after a while calls their id invalid); None when squeue itself failed."""
    result = subprocess.run(["squeue", "--noheader", "--jobs", job_id, "--format=%i"], capture_output=True, text=True)
    if result.returncode != 0:
        return False if "invalid job id" in result.stderr.lower() else None
    return bool(result.stdout.strip())
