"""Run tasks over their input records: a pool of workers asks concurrently, every finished item is appended
to its output file at once, and at the end the files are put in input order. An item stopped by the budget
or by a request that failed after its retries is counted and left for the next run (its answers so far are
in the cache); a malformed answer sends the item to rejected.jsonl. Nothing here stops the other items."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from medadapt.records.jsonl import write_jsonl
from medadapt.records.kinds import Record
from medadapt.generate.streams import Streams, reorder
from medadapt.generate.tasks.base import TaskRunner
from medadapt.llm.errors import BudgetReached, RequestFailed


@dataclass
class TaskCounts:
    items: int = 0
    skipped_languages: Counter = field(default_factory=Counter)  # input records not in the task's `languages`
    written: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    rejected_by: Counter = field(default_factory=Counter)
    failed: int = 0
    left_for_next_run: int = 0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "skipped_languages": dict(self.skipped_languages), "written": self.written,
                "rejected": self.rejected, "rejected_by": dict(self.rejected_by), "failed": self.failed,
                "left_for_next_run": self.left_for_next_run, "failures": self.failures[:20]}


def _reason_kind(entry: dict[str, Any]) -> str:
    return entry["step"].split(".", 1)[-1] + (": malformed" if "malformed" in entry["reason"] else "")


async def run_task(task: TaskRunner, records: list[Record], streams: Streams, workers: int,
                   console: Console) -> TaskCounts:
    counts = TaskCounts(items=len(records))
    queue: asyncio.Queue[Record] = asyncio.Queue()
    for record in records:
        queue.put_nowait(record)
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(task.name, total=len(records))

        async def worker() -> None:
            while not queue.empty():
                record = queue.get_nowait()
                try:
                    result = await task.process(record)
                except BudgetReached:
                    counts.left_for_next_run += 1
                    continue
                except RequestFailed as exc:
                    counts.failed += 1
                    counts.failures.append(f"{record.id}: {exc.one_line()}")
                    continue
                finally:
                    progress.advance(bar)
                for stem, rows in result.outputs.items():
                    streams.append(stem, rows)
                if result.rejected:
                    streams.append("rejected", result.rejected)
                    counts.rejected += len(result.rejected)
                    counts.rejected_by.update(_reason_kind(entry) for entry in result.rejected)

        await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(records))))))
    return counts


def finish_task(task: TaskRunner, records: list[Record], streams: Streams, counts: TaskCounts, out_dir: Path) -> None:
    """Put the streamed outputs in input order and let the task apply its last step (review decisions)."""
    position = {record.id: i for i, record in enumerate(records)}
    outputs = {stem: reorder(streams.path(stem), position) for stem in task.output_stems()}
    outputs, rejected = task.finalize(outputs, out_dir)
    for stem, rows in outputs.items():
        streams.release(stem)
        counts.written[stem] = write_jsonl(streams.path(stem), rows)
    if rejected:
        streams.append("rejected", rejected)
        counts.rejected += len(rejected)
        counts.rejected_by.update(_reason_kind(entry) for entry in rejected)
