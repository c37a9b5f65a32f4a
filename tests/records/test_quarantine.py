"""One shape of rejected row everywhere, and the one duplicate-id check over one or several files."""

from __future__ import annotations

import json

from medadapt.records.importers import import_file
from medadapt.records.jsonl import write_json
from medadapt.records.quarantine import FirstIds, RejectedRow, rejection

SCHEMA = list(RejectedRow.__annotations__)


def _qa(id: str, question: str = "Fever?") -> str:
    return json.dumps({"id": id, "source": "s", "lang": "en", "question": question, "answer": "Rest."})


def test_every_rejection_has_the_one_shape_and_a_located_reason():
    row = rejection("a.csv", 3, "answer", "is empty", {"id": "q1"}, stage="data", step="read", rule="invalid_row")
    assert list(row) == SCHEMA == ["id", "stage", "step", "file", "row", "field", "rule", "reason", "record"]
    assert row["id"] == "q1" and row["reason"] == "a.csv: row 3: answer: is empty"
    whole = rejection("", None, "", "same text as q0", {"id": "q2"}, stage="curate", step="exact_dedup",
                      rule="exact_duplicate", kind="qa")
    assert whole["reason"] == "same text as q0" and list(whole)[-1] == "kind"  # a stage's own keys come last


def test_duplicate_ids_are_refused_within_and_across_files(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(f"{_qa('1')}\n{_qa('1', 'Again?')}\n{_qa('2')}\n", encoding="utf-8")
    second.write_text(f"{_qa('2')}\n{_qa('3')}\n", encoding="utf-8")
    ids = FirstIds()
    a, b = import_file(first, "qa", ids=ids), import_file(second, "qa", ids=ids)
    assert [r.id for r in a.records] == ["1", "2"] and [r.id for r in b.records] == ["3"]
    assert a.rejected[0]["reason"] == f"{first}: row 2: id: duplicate id '1'"
    assert b.rejected[0]["reason"] == f"{second}: row 1: id: duplicate id '2' (first in {first})"
    assert {r["rule"] for r in a.rejected + b.rejected} == {"duplicate_id"}
    assert len(import_file(second, "qa").records) == 2  # without a shared check each file is its own


def test_unparseable_lines_are_kept_as_they_were(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text(f"{_qa('1')}\nnot json\n", encoding="utf-8")
    rejected = import_file(path, "qa").rejected
    assert rejected[0]["record"] == "not json" and rejected[0]["rule"] == "invalid_row" and rejected[0]["row"] == 2


def test_write_json_keeps_real_characters_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "stats.json"
    write_json(path, {"fa": "تب", "n": [1]})
    assert path.read_bytes() == json.dumps({"fa": "تب", "n": [1]}, indent=2, ensure_ascii=False).encode()
    write_json(path, {"a": 1}, indent=None, final_newline=True)
    assert path.read_text(encoding="utf-8") == '{"a": 1}\n' and [p.name for p in tmp_path.iterdir()] == ["stats.json"]
