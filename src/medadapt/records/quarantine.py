"""Rejected rows: one shape everywhere, and the one duplicate-id check.

Bad input never disappears: every row that cannot become a record, and every record a stage removes,
lands in a ``rejected.jsonl`` with its reason, and the reason is a single line a user can act on. Every
stage builds those rows with ``rejection`` so that a reader (the report, a person with ``jq``) finds the
same fields in every one of them.
"""

from __future__ import annotations

from typing import Any, TypedDict

from medadapt.errors import single_line


class RejectedRow(TypedDict):
    """A rejected row. ``file``/``row`` say where it came from (``row`` is None when it is not a row of a
    file), ``field`` the record field at fault (``(row)``: the row as read; empty: the record as a whole), ``rule`` the check that
    refused it (a short name to count by), ``reason`` one readable line, ``record`` the row itself; ``id``,
    ``stage`` and ``step`` say which record and which part of which stage. A stage may add its own keys
    after these (curate: ``kind``, ``cluster_id``)."""

    id: Any
    stage: str
    step: str
    file: str
    row: int | None
    field: str
    rule: str
    reason: str
    record: Any


def rejection(file: str, row: int | None, field: str, message: str, record: Any, *, stage: str, step: str,
              rule: str, **extra: Any) -> RejectedRow:
    """The one constructor of a rejected row. The reason names file, row and field before ``message``, each
    when known: a document inside curate's pipeline has no file, a check on a whole record no field."""
    place = f"{file}: row {row}" if row is not None else file
    entry: RejectedRow = {
        "id": record.get("id") if isinstance(record, dict) else getattr(record, "id", None),
        "stage": stage,
        "step": step,
        "file": file,
        "row": row,
        "field": field,
        "rule": rule,
        "reason": single_line(": ".join(part for part in (place, field, message) if part)),
        "record": record,
    }
    return entry | extra  # type: ignore[return-value]  # extra keys are a stage's own


class FirstIds:
    """The one duplicate-id check: the first record with an id is kept, a later one is refused. Readers
    share one instance across files when ids must be unique over all of them."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}

    def duplicate(self, record_id: str, file: str) -> str | None:
        """None when ``record_id`` is new (``file`` is remembered); else why this record is refused."""
        if record_id not in self._first:
            self._first[record_id] = file
            return None
        first = self._first[record_id]
        return f"duplicate id {record_id!r}" + ("" if first == file else f" (first in {first})")
