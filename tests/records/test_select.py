"""``where`` and ``fraction``: the records of a file a recipe uses, left out without being quarantined."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from medadapt.errors import DataError
from medadapt.evaluate.mcqa.benchmark import BenchmarkSpec, definitions, locate_definition, prepare_benchmark
from medadapt.records.kinds import MCQARecord, QARecord
from medadapt.records.select import select
from medadapt.records.source import RecordFile
from tests.shared_data import SHARED


def qa(i: int, **extra) -> QARecord:
    return QARecord(id=f"q{i}", question=f"Question {i}?", answer="An answer.", lang="fa", source="s", **extra)


def test_fraction_is_seeded_by_id_stable_under_reordering_and_nested():
    records = [qa(i) for i in range(2000)]
    sixty = select(records, fraction=0.6, seed=7)
    assert 0.56 < len(sixty.records) / 2000 < 0.64 and sixty.left_out == {"fraction": 2000 - len(sixty.records)}
    assert {r.id for r in select(records[::-1], fraction=0.6, seed=7).records} == {r.id for r in sixty.records}
    assert {r.id for r in select(records, fraction=0.3, seed=7).records} < {r.id for r in sixty.records}
    assert {r.id for r in select(records, fraction=0.6, seed=8).records} != {r.id for r in sixty.records}
    assert len(select(records, fraction=1.0).records) == 2000


def test_where_matches_fields_and_meta_columns_with_letters_folded():
    records = [qa(1, meta={"Source": "پزشکی اسفند 402"}), qa(2, meta={"Source": "پزشكي اسفند ۴۰۲"}),
               qa(3, meta={"Source": "پزشکی شهریور 401"}), qa(4)]
    chosen = select(records, {"meta.Source": "پزشکی اسفند 402"})
    assert [r.id for r in chosen.records] == ["q1", "q2"] and chosen.left_out == {"where": 2}
    assert [r.id for r in select(records, {"meta.Source": ["پزشکی شهریور 401", "x"], "lang": "fa"}).records] == ["q3"]


def test_a_source_with_where_and_fraction_counts_what_it_left_out(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(qa(i, meta={"site": "a" if i % 2 else "b"}).model_dump(mode="json")) + "\n"
                            for i in range(100)), encoding="utf-8")
    result = RecordFile(path=str(path), where={"meta.site": "a"}, fraction=0.5).read(path, base_dir=None, stage="data")
    assert all(r.meta["site"] == "a" for r in result.records)
    assert result.left_out["where"] == 50 and result.left_out["fraction"] == 50 - len(result.records)
    with pytest.raises(DataError, match=r"where: matched none of its 100 records \(meta\.site has: [ab], [ab]\)"):
        RecordFile(path=str(path), where={"meta.site": "c"}).read(path, base_dir=None, stage="data")


@pytest.mark.skipif(not (SHARED / "data" / "gaokerena" / "exams").is_dir(), reason="../shared/data is absent")
def test_every_exam_sitting_is_a_defined_benchmark_with_its_own_questions():
    counts = Counter()
    sittings = [name for name in definitions() if name.startswith("gaokerena-exam-")]
    assert len(sittings) == 10
    for name in sittings:
        path, spec = locate_definition(name, SHARED / "data")
        prepared = prepare_benchmark(BenchmarkSpec(name, path, spec["format"], where=spec["where"]))
        assert {r.meta["Source"] for r in prepared.records} == {spec["where"]["meta.Source"]}
        counts[name] = len(prepared.records)
    assert sum(counts.values()) == 1710  # the ten sittings are the whole file, each question in one
    assert counts["gaokerena-exam-dentistry-1402-shahrivar"] == 185


def test_a_where_that_matches_no_question_names_what_the_file_has(tmp_path):
    path = tmp_path / "mcqa.jsonl"
    row = MCQARecord(id="m1", question="Q?", choices=["a", "b"], answer=0, lang="en", source="s",
                     meta={"Source": "exam 1"})
    path.write_text(json.dumps(row.model_dump(mode="json")) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"where matched none of 1 questions \(meta\.Source has: exam 1\)"):
        prepare_benchmark(BenchmarkSpec("b", path, where={"meta.Source": "exam 2"}))
