"""Engines that execute a step. Steps stay engine-free: an engine only decides where ``apply`` runs.

``InProcess`` calls the step directly. ``Datatrove`` runs a per-document step as a datatrove pipeline step
over contiguous shards (so concatenating the shards in rank order gives exactly the in-process result);
datatrove's executor (curate/executors.py: its local process pool, a Ray cluster or Slurm job arrays) runs
the shards in parallel and, on a restart, skips shards it marked completed. The shards live in the step's
work folder, which Ray's and Slurm's workers must see at the same (absolute) path. Steps that need every
document at once (deduplication) run in the main process under either engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from medadapt.curate.config import EngineSpec
from medadapt.curate.records import Doc
from medadapt.curate.shards import shard_file
from medadapt.curate.steps import DocStep, Rejection, Step, StepEnv, StepResult
from medadapt.records.jsonl import iter_jsonl, write_jsonl
from medadapt.errors import RecipeError


class Engine(Protocol):
    def apply(self, step: Step, docs: list[Doc], work: Path) -> StepResult: ...


class InProcess:
    def apply(self, step: Step, docs: list[Doc], work: Path) -> StepResult:
        return step.apply(docs)


class Datatrove:
    """Per-document steps on one of datatrove's executors: ``tasks`` shards, ``workers`` of them at once."""

    def __init__(self, spec: EngineSpec, env: StepEnv):
        try:
            import datatrove  # noqa: F401
        except ImportError:
            raise RecipeError("curate", ["curate.engine.kind: datatrove is not installed "
                                         "(pip install 'medadapt[scale]')"]) from None
        self.spec = spec
        self.env = env

    def apply(self, step: Step, docs: list[Doc], work: Path) -> StepResult:
        if not isinstance(step, DocStep):
            return step.apply(docs)
        from medadapt.curate.executors import run_tasks

        tasks = self.spec.tasks
        work = work.absolute()
        self._write_shards(docs, work, tasks)
        run_tasks(self.spec, step.spec, step.name, self.env, work)
        kept, rejected, counters = [], [], {}
        for rank in range(tasks):
            kept += [Doc(row["kind"], row["record"]) for row in iter_jsonl(shard_file(work, "kept", rank))]
            rejected += [Rejection(Doc(row["kind"], row["record"]), row["step"], row["rule"], row["reason"],
                                   row.get("cluster_id")) for row in iter_jsonl(shard_file(work, "rejected", rank))]
            for shard_counters in iter_jsonl(shard_file(work, "counters", rank)):
                for key, value in shard_counters.items():
                    counters[key] = counters.get(key, 0) + value
        return StepResult(kept, rejected, counters)

    def _write_shards(self, docs: list[Doc], work: Path, tasks: int) -> None:
        """Contiguous shards, written once: a restarted step finds the same shards its completed tasks saw."""
        done = work / "in" / "complete"
        if done.is_file():
            return
        (work / "in").mkdir(parents=True, exist_ok=True)
        for kind in ("kept", "rejected", "counters"):
            (work / kind).mkdir(exist_ok=True)
        size = -(-len(docs) // tasks) if docs else 0
        for rank in range(tasks):
            write_jsonl(shard_file(work, "in", rank), (d.to_json() for d in docs[rank * size : (rank + 1) * size]))
        done.write_text(str(len(docs)))


def make_engine(spec: EngineSpec, env: StepEnv) -> Engine:
    return Datatrove(spec, env) if spec.kind == "datatrove" else InProcess()
