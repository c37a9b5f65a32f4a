"""A benchmark ready to score: its questions, rejected rows, few-shot examples, style and pass mark."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from medadapt.data.jsonl import read_records
from medadapt.data.records import MCQARecord
from medadapt.evaluate.requests import select_fewshot
from medadapt.runs.hashing import hash_file


@dataclass
class PreparedBenchmark:
    name: str
    path: Path
    records: list[MCQARecord]
    rejected: list[dict] = field(default_factory=list)
    style: str = "letters"
    fewshot: dict[str, list[MCQARecord]] = field(default_factory=dict)
    pass_mark: float | None = None

    def describe(self) -> dict:
        """What results.json records about the benchmark itself."""
        return {
            "benchmark": self.name, "style": self.style, "file": str(self.path), "data_sha256": hash_file(self.path),
            "n": len(self.records), "rejected": len(self.rejected),
            "num_fewshot": max((len(v) for v in self.fewshot.values()), default=0),
            "fewshot_ids": sorted(r.id for v in self.fewshot.values() for r in v), "pass_mark": self.pass_mark,
        }


def prepare_benchmark(
    name: str, path: Path, *, style: str = "letters", languages: list[str] | None = None, limit: int | None = None,
    num_fewshot: int = 0, fewshot_path: Path | None = None, pass_mark: float | None = None,
) -> PreparedBenchmark:
    """Load and select questions. Few-shot examples drawn from the benchmark itself are removed from scoring."""
    result = read_records(path, MCQARecord, stage="evaluate")
    records = [r for r in result.records if languages is None or r.lang in languages]
    rejected = list(result.rejected)
    fewshot: dict[str, list[MCQARecord]] = {}
    if num_fewshot:
        if fewshot_path is not None:
            pool = read_records(fewshot_path, MCQARecord, stage="evaluate")
            rejected += pool.rejected
            fewshot = select_fewshot(pool.records, num_fewshot)
        else:
            fewshot = select_fewshot(records, num_fewshot)
            used = {r.id for examples in fewshot.values() for r in examples}
            records = [r for r in records if r.id not in used]
    if limit:
        records = records[:limit]
    return PreparedBenchmark(name, path, records, rejected, style, fewshot, pass_mark)
