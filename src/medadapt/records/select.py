"""Which records of a file a recipe uses: ``where`` (field values, e.g. one exam sitting) and ``fraction``
(a seeded share of a corpus, e.g. Gaokerena's stage 1 on 60 % of its corpus).

Both leave records out without quarantining them: they are not bad rows, the recipe chose not to use them, and
the stage counts them (``left_out`` in its stats). Values are compared in the MATCH fold
(:mod:`medadapt.text.fold`), so an exam sitting typed with Arabic ي/ك, a ZWNJ or Persian digits still
matches, and case does not matter. The fraction is decided per record by a hash of its id and the seed, not
by position: the same records are kept whatever the file's order, and a larger fraction keeps a superset of a
smaller one's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import xxhash
from pydantic import BaseModel

from medadapt.text.fold import MATCH, fold

Where = Mapping[str, str | Sequence[str]]


def field_value(record: BaseModel, path: str) -> Any:
    """``subject``, ``lang`` or ``meta.Source``: a record field, or a key under a mapping field."""
    head, _, rest = path.partition(".")
    value = getattr(record, head, None)
    if rest:
        value = value.get(rest) if isinstance(value, Mapping) else None
    return value


def _folded(value: Any) -> str:
    return fold(str(value).strip(), MATCH)


def matches(record: BaseModel, where: Where) -> bool:
    """True when, for every field named, the record's value is (one of) the values given."""
    for path, wanted in where.items():
        allowed = {_folded(v) for v in ([wanted] if isinstance(wanted, str) else wanted)}
        value = field_value(record, path)
        if value is None or _folded(value) not in allowed:
            return False
    return True


def in_fraction(record_id: str, fraction: float, seed: int) -> bool:
    """Whether a record belongs to the seeded ``fraction`` of its file (decided by its id alone)."""
    return xxhash.xxh64_intdigest(f"{seed}:{record_id}".encode()) < fraction * 2**64


def seen_values(records: Sequence[BaseModel], where: Where, shown: int = 5) -> str:
    """What the file has in the fields ``where`` names (the most common first), for a filter matching nothing."""
    parts = []
    for path in where:
        counts = Counter(str(field_value(r, path)) for r in records)
        common = ", ".join(value for value, _ in counts.most_common(shown))
        parts.append(f"{path} has: {common}" + (", …" if len(counts) > shown else ""))
    return "; ".join(parts)


@dataclass
class Selection:
    records: list[Any] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)  # reason ("where", "fraction") → records


def select(records: Iterable[BaseModel], where: Where | None = None, fraction: float | None = None,
           seed: int = 0) -> Selection:
    """The records ``where`` and ``fraction`` keep, and how many each left out."""
    chosen = Selection(left_out={"where": 0, "fraction": 0})
    for record in records:
        if where and not matches(record, where):
            chosen.left_out["where"] += 1
        elif fraction is not None and fraction < 1 and not in_fraction(str(record.id), fraction, seed):
            chosen.left_out["fraction"] += 1
        else:
            chosen.records.append(record)
    chosen.left_out = {reason: n for reason, n in chosen.left_out.items() if n}
    return chosen
