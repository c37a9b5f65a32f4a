"""Canonical records on disk: JSONL (one object a line) or Parquet (where size matters), by suffix."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from medadapt.data.jsonl import write_jsonl
from medadapt.data.records import Record
from medadapt.errors import DataError

RECORD_SUFFIXES = (".jsonl", ".parquet")


def write_records(path: Path, records: Sequence[Record] | Iterable[Record]) -> int:
    """Write records as JSONL or Parquet (by ``path``'s suffix), atomically; return how many."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return write_jsonl(path, records)
    if suffix != ".parquet":
        raise DataError(f"records are written as {' or '.join(RECORD_SUFFIXES)}", file=str(path))
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [r.model_dump(mode="json", exclude_none=True) for r in records]
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, path)
    return len(rows)
