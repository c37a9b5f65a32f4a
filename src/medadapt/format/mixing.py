"""Mixing: caps per source, then ratios between sources and between languages, with a report of what the
mixture holds (records, characters, tokens per source and language) and the intended vs achieved ratio.

Ratios are met by down-sampling the larger groups (the default: no record is repeated) or, with
``upsample``, by repeating records of the smaller groups; ``total`` fixes the size instead. Sampling is
seeded. Upsampled copies get ids ``<id>~2``, ``<id>~3``… so ids stay unique.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from medadapt.records.kinds import Record
from medadapt.errors import DataError


def cap_sources(records: list[Record], caps: dict[str, int], seed: int) -> tuple[list[Record], dict[str, int]]:
    """At most ``caps[source]`` records of each capped source (a seeded sample); how many each lost."""
    by_source: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_source[record.source].append(record)
    kept: list[Record] = []
    removed: dict[str, int] = {}
    rng = random.Random(seed)
    for source, group in by_source.items():
        cap = caps.get(source)
        if cap is not None and len(group) > cap:
            removed[source] = len(group) - cap
            group = rng.sample(group, cap)
        kept += group
    return kept, removed


def _copy(record: Record, n: int) -> Record:
    return record.model_copy(update={"id": f"{record.id}~{n}"})


def _resample(group: list[Record], target: int, rng: random.Random) -> list[Record]:
    if target <= len(group):
        return rng.sample(group, target)
    full, rest = divmod(target, len(group))
    out = [r if k == 0 else _copy(r, k + 1) for k in range(full) for r in group]
    return out + [_copy(r, full + 1) for r in rng.sample(group, rest)]


def mix_by(records: list[Record], key: str, weights: dict[str, float], seed: int, total: int | None = None,
           upsample: bool = False, require_all: bool = True) -> tuple[list[Record], dict[str, Any]]:
    """Records of each ``key`` value (``lang`` or ``source``) in the ratio of ``weights``.

    Values with no weight are left out of the mixture and counted as such in the report. A weighted value
    with no records is an error, unless ``require_all`` is false (then the ratio holds among the others and
    the report lists it under ``absent``).
    """
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[getattr(record, key)].append(record)
    active = {name: w for name, w in weights.items() if w > 0}
    empty = [name for name in active if not groups.get(name)]
    if not require_all:
        active = {name: w for name, w in active.items() if name not in empty}
    if empty and (require_all or not active):
        raise DataError(f"no records for {', '.join(empty)} (have {', '.join(sorted(groups)) or 'none'})",
                        field=f"data.mix.by_{key}")
    share = {name: w / sum(active.values()) for name, w in active.items()}
    if total is None:
        scale = (max if upsample else min)(len(groups[name]) / share[name] for name in active)
    else:
        scale = total
    rng = random.Random(seed)
    mixed: list[Record] = []
    for name in sorted(active):
        mixed += _resample(groups[name], round(scale * share[name]), rng)
    achieved = Counter(getattr(r, key) for r in mixed)
    report = {
        "by": key,
        "groups": {
            name: {"available": len(groups[name]), "selected": achieved[name], "intended_share": round(share[name], 4),
                   "achieved_share": round(achieved[name] / max(len(mixed), 1), 4)}
            for name in sorted(active)
        },
        "left_out": {name: len(group) for name, group in sorted(groups.items()) if name not in active},
        "absent": sorted(empty),
    }
    report["max_share_error"] = max(abs(g["achieved_share"] - g["intended_share"]) for g in report["groups"].values())
    return mixed, report


def composition(records: list[Record], size: Callable[[Record], int],
                tokens: Callable[[Record], int] | None = None) -> dict[str, Any]:
    """Records, characters (and tokens, when a tokenizer is known) per source and per language."""
    table: dict[str, Any] = {}
    for key in ("source", "lang"):
        rows: dict[str, dict[str, int]] = defaultdict(lambda: {"records": 0, "chars": 0})
        for record in records:
            row = rows[getattr(record, key)]
            row["records"] += 1
            row["chars"] += size(record)
            if tokens is not None:
                row["tokens"] = row.get("tokens", 0) + tokens(record)
        table[f"by_{key}"] = dict(sorted(rows.items()))
    return table
