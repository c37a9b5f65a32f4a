"""Losses that must not pass silently: a stage (or ``data convert``) that keeps no record, or loses more than
a share of a file to unreadable rows or to language filtering, stops with one line naming the file, the
counts and the top reasons; smaller losses are printed, not only written to ``stats.json``.

Quality filters (curate's length, dedup, density steps) are not counted: removing is what they are for, and
on real forum crawls they remove about half (Gaokerena kept 5,405 of 9,728 niniban pairs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pydantic import Field

from medadapt.errors import DataError
from medadapt.records.quarantine import RejectedRow
from medadapt.strict import StrictModel

TOP_REASONS = 3


class LossLimits(StrictModel):
    """The recipe keys for the rare run that means to keep nothing, or to lose most of a file."""

    allow_empty: bool = Field(False, description="Let the stage succeed when it keeps no record (e.g. a file "
                              "that may legitimately be empty); by default that is an error.")
    max_rejected_fraction: float = Field(0.5, ge=0.0, le=1.0, description="Largest share of a file's rows "
                                         "that may be lost to unreadable rows (wrong columns, invalid values) "
                                         "or to language filtering before the stage fails; quality filters "
                                         "do not count.")


def reasons(rejected: Iterable[RejectedRow]) -> Counter[str]:
    """Rejected rows counted by what went wrong: the field and the message without its file/row prefix
    (rows with the same defect count together), or the rule when messages name each row (duplicate ids)."""
    counts: Counter[str] = Counter()
    for entry in rejected:
        if entry["rule"] != "invalid_row":
            counts[entry["rule"]] += 1
            continue
        field = entry["field"]
        message = entry["reason"].split(f": {field}: ", 1)[-1] if field else entry["reason"]
        counts[f"{field}: {message}" if field else message] += 1
    return counts


def describe(counts: Counter[str]) -> str:
    top = ", ".join(f"{reason} ×{n}" for reason, n in counts.most_common(TOP_REASONS))
    more = len(counts) - TOP_REASONS
    return top + (f" (+{more} more reasons)" if more > 0 else "")


def check_losses(file: str, rows: int, lost: Counter[str], limits: LossLimits, *, what: str = "rows",
                 keys: str = "") -> str | None:
    """Raise a one-line DataError when ``file`` kept nothing of its ``rows`` (unless ``allow_empty``) or
    lost more than ``max_rejected_fraction`` of them; else the line to print for a partial loss (None when
    nothing was lost). ``keys`` names the recipe section holding the limits, for the error's hint."""
    n_lost = sum(lost.values())
    kept = rows - n_lost
    hint = f" (set {keys}allow_empty / {keys}max_rejected_fraction if intended)" if keys else ""
    if kept <= 0 and not limits.allow_empty:
        detail = f": {describe(lost)}" if lost else ""
        raise DataError(f"kept 0 of {rows} {what}{detail}{hint}", file=file)
    if rows and n_lost / rows > limits.max_rejected_fraction and kept > 0:
        raise DataError(f"lost {n_lost} of {rows} {what} ({n_lost / rows:.0%}, more than "
                        f"{limits.max_rejected_fraction:.0%}): {describe(lost)}{hint}", file=file)
    if not n_lost:
        return None
    return f"{file}: lost {n_lost} of {rows} {what} ({n_lost / rows:.0%}): {describe(lost)}"
