"""Canonical JSONL through the one reader: bad rows quarantined with file, row and field; text kept."""

from __future__ import annotations

import json

import pytest

from medadapt.records.importers import import_file
from medadapt.records.jsonl import write_jsonl
from medadapt.records.kinds import QARecord
from medadapt.errors import DataError


def test_bad_rows_are_quarantined_with_file_row_and_field(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "1", "source": "s", "lang": "en", "question": "Fever?", "answer": "Rest."}),
        "{not json",
        json.dumps({"id": "3", "source": "s", "lang": "en", "question": "   ", "answer": "x"}),
        json.dumps({"id": "4", "source": "s", "lang": "en", "question": "q"}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"id": "7", "source": "s", "lang": "fa", "question": "تب؟", "answer": "استراحت."}),
    ]) + "\n", encoding="utf-8")
    result = import_file(path, "qa")
    assert [r.id for r in result.records] == ["1", "7"]
    reasons = [r["reason"] for r in result.rejected]
    assert reasons[0].startswith(f"{path}: row 2: (row): invalid JSON")
    assert reasons[1] == f"{path}: row 3: question: Value error, is blank"
    assert reasons[2] == f"{path}: row 4: answer: missing answer (columns: id, source, lang, question)"
    assert "row 5: (row): expected a JSON object, got list" in reasons[3]
    assert result.rejected[2]["record"] == {"id": "4", "source": "s", "lang": "en", "question": "q"}


def test_missing_files_are_one_line_errors_and_binary_lines_are_quarantined(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        import_file(tmp_path / "nope.jsonl", "qa")
    bad = tmp_path / "bin.jsonl"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    result = import_file(bad, "qa")
    assert result.records == [] and result.rejected[0]["reason"] == f"{bad}: row 1: (row): invalid UTF-8 bytes in this line"


def test_mcqa_answer_must_index_a_choice(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"id": "1", "source": "s", "lang": "en", "question": "q", "choices": ["a", "b"],
                                "answer": 2}) + "\n")
    result = import_file(path, "mcqa")
    assert result.records == [] and "index 2 but only 2 choices" in result.rejected[0]["reason"]


def test_write_roundtrip_keeps_persian_text(tmp_path):
    record = QARecord(id="1", source="s", lang="fa", question="می‌توانم؟", answer="بله")
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, [record]) == 1
    assert "می‌توانم" in path.read_text(encoding="utf-8")  # real characters, ZWNJ kept
    assert import_file(path, "qa").records == [record]
