"""Rejected rows: one dict per problem naming file, row and field, kept with the row itself.

Bad input never disappears: every row that cannot become a record lands in a quarantine file with its
reason, and the reason is a single line a user can act on.
"""

from __future__ import annotations

from typing import Any


def rejection(where: str, row: int | None, field: str, message: str, record: Any, *, stage: str,
              step: str) -> dict[str, Any]:
    """A quarantine entry; ``where`` is the file (and sheet), ``row`` the row or line number in it."""
    place = f"{where}: row {row}" if row is not None else where
    return {
        "id": record.get("id") if isinstance(record, dict) else getattr(record, "id", None),
        "stage": stage,
        "step": step,
        "field": field,
        "reason": f"{place}: {field}: {message}",
        "record": record,
    }
