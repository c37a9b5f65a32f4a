"""Train/dev/test splits: by source (test sites never seen in training, as Gaokerena did) or at random.

The random split hashes ``seed:id`` instead of shuffling, so a record stays in its split when other
records are added or removed: a re-crawl never moves a test question into training.
"""

from __future__ import annotations

from collections import defaultdict

import xxhash

from medadapt.curate.config import SplitSpec
from medadapt.curate.records import Doc

SPLITS = ("train", "dev", "test")


def _unit_interval(seed: int, record_id: str) -> float:
    return xxhash.xxh3_64_intdigest(f"{seed}:{record_id}".encode()) / 2**64


def assign_split(doc: Doc, spec: SplitSpec, seed: int) -> str:
    if spec.by == "source":
        source = doc.record["source"]
        return "test" if source in spec.test_sources else "dev" if source in spec.dev_sources else "train"
    u = _unit_interval(seed, doc.id)
    return "test" if u < spec.test_fraction else "dev" if u < spec.test_fraction + spec.dev_fraction else "train"


def split_docs(docs: list[Doc], spec: SplitSpec, seed: int, kinds: list[str]) -> dict[str, dict[str, list[Doc]]]:
    """``{kind: {split: docs}}``, input order kept within each split; every kind given has a train split
    (perhaps empty), so later stages can always read ``<kind>/train.jsonl``."""
    out: dict[str, dict[str, list[Doc]]] = defaultdict(lambda: {"train": []})
    for kind in kinds:
        out[kind]["train"] = []
    for doc in docs:
        out[doc.kind].setdefault(assign_split(doc, spec, seed), []).append(doc)
    return {kind: dict(splits) for kind, splits in out.items()}
