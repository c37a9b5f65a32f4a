"""Canonical records on disk: JSONL (one object a line) or Parquet (where size matters), by suffix."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from medadapt.records.jsonl import write_jsonl
from medadapt.records.kinds import Record
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
    try:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    except (pa.ArrowException, OverflowError) as exc:
        tmp.unlink(missing_ok=True)
        raise arrow_problem(rows, path, exc) from None
    os.replace(tmp, path)
    return len(rows)


def arrow_problem(rows: list[dict[str, Any]], path: Path, exc: Exception) -> DataError:
    """Why Arrow (Parquet, a ``datasets`` folder) could not store ``rows``, naming the first field it cannot
    hold: a column has one type, while a record's extra fields may be a number in one record and text in
    another (or an empty object, or an integer past 64 bits). JSONL stores them as they are."""
    import pyarrow as pa

    field = None
    for name in dict.fromkeys(key for row in rows for key in row):
        try:
            pa.array([row.get(name) for row in rows])
        except (pa.ArrowException, OverflowError):
            field = name
            break
    return DataError(f"cannot store these records as Arrow columns ({exc}); write .jsonl instead", file=str(path),
                     field=field)
