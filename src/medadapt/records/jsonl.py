"""JSON and JSONL out, written atomically (a temporary file, then a rename: a reader never sees half a
file), and JSONL that this package wrote itself back in. Records from anywhere else are read, validated
and quarantined by ``records.importers.import_file``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel


def write_json(path: Path, value: Any, *, indent: int | None = 2, ensure_ascii: bool = False,
               final_newline: bool = False) -> None:
    """Write ``value`` as JSON (UTF-8, real characters, ``indent`` spaces) atomically; the options exist
    so that files keep the exact bytes they have always had."""
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii) + ("\n" if final_newline else "")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl(path: Path, rows: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write rows (records or dicts) atomically; return how many were written."""
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            data = row.model_dump(mode="json", exclude_none=True) if isinstance(row, BaseModel) else row
            handle.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
    os.replace(tmp, path)
    return count


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL file this package wrote itself (already validated)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
