"""Exact and near-duplicate removal on constructed duplicates."""

from __future__ import annotations

import random

from curate_helpers import article, qa, step

from medadapt.curate.dedup import lsh_bands, near_duplicates

WORDS = [f"واژه{i}" for i in range(3000)]


def _doc(rng: random.Random, n: int = 120) -> str:
    return " ".join(rng.choices(WORDS, k=n))


def _edit(text: str, rng: random.Random, changes: int) -> str:
    tokens = text.split()
    for i in rng.sample(range(len(tokens)), changes):
        tokens[i] = "تغییر"
    return " ".join(tokens)


def test_exact_dedup_on_question_ignores_case_and_spacing():
    dedup = step({"step": "exact_dedup"})
    docs = [qa("a", "What is  Fever?", "x", lang="en"), qa("b", "what is fever?", "y", lang="en"),
            qa("c", "What is fever today?", "z", lang="en"), article("d", "What is fever?")]
    result = dedup.apply(docs)
    assert [d.id for d in result.kept] == ["a", "c", "d"]  # an article never duplicates a question
    assert result.rejected[0].doc.id == "b" and result.rejected[0].cluster_id == "a"


def test_near_duplicates_found_and_distinct_texts_kept():
    rng = random.Random(0)
    originals = [_doc(rng) for _ in range(100)]
    copies = [_edit(t, rng, 2) for t in originals[:30]]  # ~2 % of words changed
    texts = originals + copies
    matches = near_duplicates(texts, threshold=0.7, ngram=3)
    assert {m.index for m in matches} == set(range(100, 130))
    assert all(m.kept == m.index - 100 for m in matches)


def test_cluster_points_to_first_kept_document():
    rng = random.Random(1)
    base = _doc(rng)
    texts = [base, _edit(base, rng, 1), _edit(base, rng, 1)]
    matches = near_duplicates(texts, threshold=0.8, ngram=3)
    assert [(m.index, m.kept) for m in matches] == [(1, 0), (2, 0)]


def test_near_dedup_step_is_deterministic_and_records_cluster():
    rng = random.Random(2)
    base = _doc(rng)
    docs = [article("a", base), article("b", _doc(rng)), article("c", _edit(base, rng, 1))]
    first = step({"step": "near_dedup", "threshold": 0.8, "ngram": 3}).apply(docs)
    second = step({"step": "near_dedup", "threshold": 0.8, "ngram": 3}).apply(docs)
    assert [d.id for d in first.kept] == [d.id for d in second.kept] == ["a", "b"]
    assert first.rejected[0].cluster_id == "a" and "near duplicate of a" in first.rejected[0].reason


def test_lsh_bands_catch_pairs_at_the_threshold():
    bands = lsh_bands(0.8, 128)
    rows = 128 // bands
    assert 1 - (1 - 0.8**rows) ** bands >= 0.95
