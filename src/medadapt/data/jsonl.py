"""JSONL in and out. Reading validates each row; a bad row is quarantined with its reason, never dropped."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from medadapt.data.quarantine import rejection
from medadapt.errors import DataError

R = TypeVar("R", bound=BaseModel)


@dataclass
class ReadResult:
    records: list[Any] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    return ".".join(str(p) for p in err["loc"]) or "(row)", err["msg"]


def read_records(path: Path, model: type[R], stage: str) -> ReadResult:
    """Parse ``path`` as JSONL of ``model``; rows that fail go to ``rejected`` naming file, row and field."""
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    result = ReadResult()
    try:
        handle = path.open(encoding="utf-8")
        lines = list(handle)
        handle.close()
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
        except ValueError as exc:
            result.rejected.append(rejection(str(path), number, "(row)", f"invalid JSON: {exc}", line.rstrip("\n"),
                                             stage=stage, step="read"))
            continue
        try:
            result.records.append(model.model_validate(raw))
        except ValidationError as exc:
            where, message = _first_error(exc)
            result.rejected.append(rejection(str(path), number, where, message, raw, stage=stage, step="read"))
    return result


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
