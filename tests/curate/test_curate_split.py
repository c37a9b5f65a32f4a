"""Splits: random by a hash of the id (stable when records come and go) or by source."""

from __future__ import annotations

import pytest
from curate_helpers import qa

from medadapt.curate.config import SplitSpec
from medadapt.curate.split import split_docs


def _docs(n: int, sources=("a", "b", "c")):
    return [qa(str(i), "q", "a", source=sources[i % len(sources)]) for i in range(n)]


def test_random_split_fractions_and_stability():
    spec = SplitSpec(test_fraction=0.1, dev_fraction=0.1)
    docs = _docs(2000)
    splits = split_docs(docs, spec, seed=0, kinds=["qa"])["qa"]
    assert sum(len(v) for v in splits.values()) == 2000
    assert 150 < len(splits["test"]) < 250 and 150 < len(splits["dev"]) < 250
    test_ids = {d.id for d in splits["test"]}
    fewer = split_docs(docs[::2], spec, seed=0, kinds=["qa"])["qa"]
    assert {d.id for d in fewer["test"]} == {d.id for d in docs[::2]} & test_ids  # nobody moves
    other_seed = split_docs(docs, spec, seed=1, kinds=["qa"])["qa"]
    assert {d.id for d in other_seed["test"]} != test_ids


def test_split_by_source_and_empty_kinds():
    spec = SplitSpec(by="source", test_sources=["c"], dev_sources=["b"])
    splits = split_docs(_docs(30), spec, seed=0, kinds=["qa", "article"])
    assert {d.record["source"] for d in splits["qa"]["test"]} == {"c"}
    assert {d.record["source"] for d in splits["qa"]["dev"]} == {"b"}
    assert {d.record["source"] for d in splits["qa"]["train"]} == {"a"}
    assert splits["article"] == {"train": []}


def test_inconsistent_split_rejected():
    with pytest.raises(ValueError, match="by: source"):
        SplitSpec(by="source", test_fraction=0.1)
    with pytest.raises(ValueError, match="need by: source"):
        SplitSpec(test_sources=["x"])
