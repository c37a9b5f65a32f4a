"""A benchmark ready to score: its questions, rejected rows, few-shot examples, style and pass mark."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from medadapt.data.records import MCQARecord
from medadapt.errors import DataError
from medadapt.evaluate.requests import select_fewshot
from medadapt.runs.hashing import hash_file

DEFINITIONS_FILE = Path(__file__).with_name("benchmarks.yaml")


@lru_cache(maxsize=1)
def definitions() -> dict[str, dict]:
    """Named benchmarks (data): file relative to the data folder, mapping, pass mark."""
    return yaml.safe_load(DEFINITIONS_FILE.read_text(encoding="utf-8"))


def locate_definition(name: str, data_dir: Path | None = None) -> tuple[Path, dict]:
    """The file of a named benchmark under ``data_dir`` (or $MEDADAPT_DATA), and its definition."""
    spec = definitions()[name]
    root = data_dir or (Path(os.environ["MEDADAPT_DATA"]) if os.environ.get("MEDADAPT_DATA") else None)
    if root is None:
        raise DataError("a named benchmark needs --data-dir or $MEDADAPT_DATA (the folder with your data sets)",
                        field=f"benchmark {name}")
    path = root / spec["file"]
    if not path.is_file():
        raise DataError(f"file not found: {path} (expected {spec['file']} under {root})", field=f"benchmark {name}")
    return path, spec


def load_questions(path: Path, fmt: str = "mcqa") -> tuple[list[MCQARecord], list[dict]]:
    """Multiple-choice records from any file the data importers read (JSONL of mcqa records by default)."""
    from medadapt.data.importers import import_file

    result = import_file(path, fmt, stage="evaluate")
    if result.kind != "mcqa":
        raise DataError(f"format {fmt!r} gives {result.kind} records, not mcqa", file=str(path))
    return result.records, result.rejected


@dataclass
class PreparedBenchmark:
    name: str
    path: Path
    records: list[MCQARecord]
    rejected: list[dict] = field(default_factory=list)
    style: str = "letters"
    fewshot: dict[str, list[MCQARecord]] = field(default_factory=dict)
    pass_mark: float | None = None
    chat: bool = False

    def describe(self) -> dict:
        """What results.json records about the benchmark itself."""
        return {
            "benchmark": self.name, "style": self.style, "file": str(self.path), "data_sha256": hash_file(self.path),
            "n": len(self.records), "rejected": len(self.rejected),
            "num_fewshot": max((len(v) for v in self.fewshot.values()), default=0),
            "fewshot_ids": sorted(r.id for v in self.fewshot.values() for r in v), "pass_mark": self.pass_mark,
            "chat_template": self.chat,
        }


def prepare_benchmark(
    name: str, path: Path, *, fmt: str = "mcqa", style: str = "letters", languages: list[str] | None = None,
    limit: int | None = None, num_fewshot: int = 0, fewshot_path: Path | None = None, pass_mark: float | None = None,
    chat: bool = False,
) -> PreparedBenchmark:
    """Load and select questions. Few-shot examples drawn from the benchmark itself are removed from scoring."""
    loaded, rejected = load_questions(path, fmt)
    records = [r for r in loaded if languages is None or r.lang in languages]
    fewshot: dict[str, list[MCQARecord]] = {}
    if num_fewshot:
        if fewshot_path is not None:
            pool, pool_rejected = load_questions(fewshot_path, fmt)
            rejected += pool_rejected
            fewshot = select_fewshot(pool, num_fewshot)
        else:
            fewshot = select_fewshot(records, num_fewshot)
            used = {r.id for examples in fewshot.values() for r in examples}
            records = [r for r in records if r.id not in used]
    if limit:
        records = records[:limit]
    return PreparedBenchmark(name, path, records, rejected, style, fewshot, pass_mark, chat)
