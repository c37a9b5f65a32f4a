"""One shard of a step run on datatrove: the documents of shard ``rank`` in, survivors, rejections and
counters out, as JSONL files under the step's work folder. The engine writes and reads these files; the
datatrove pipeline step (``datatrove_step``) runs ``run_shard`` in a worker. Free of datatrove itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.curate.records import Doc
from medadapt.curate.steps import StepEnv, build_steps
from medadapt.records.jsonl import iter_jsonl, write_jsonl


def shard_file(work: Path, kind: str, rank: int) -> Path:
    return work / kind / f"{rank:05d}.jsonl"


def run_shard(spec: Any, env: StepEnv, work: str, rank: int) -> None:
    """One task: apply the step to shard ``rank`` and write its survivors, rejections and counters."""
    folder = Path(work)
    step = build_steps([spec], env)[0]
    docs = [Doc(row["kind"], row["record"]) for row in iter_jsonl(shard_file(folder, "in", rank))]
    result = step.apply(docs)
    write_jsonl(shard_file(folder, "kept", rank), (d.to_json() for d in result.kept))
    write_jsonl(shard_file(folder, "rejected", rank), (r.to_json("") for r in result.rejected))
    write_jsonl(shard_file(folder, "counters", rank), [result.counters])
