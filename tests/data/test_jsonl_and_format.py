from __future__ import annotations

import json

import pytest

from medadapt.data.formatting import qa_to_chat
from medadapt.data.jsonl import read_records, write_jsonl
from medadapt.data.records import MCQARecord, QARecord
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
    result = read_records(path, QARecord, stage="data")
    assert [r.id for r in result.records] == ["1", "7"]
    reasons = [r["reason"] for r in result.rejected]
    assert reasons[0].startswith(f"{path}: row 2: (row): invalid JSON")
    assert reasons[1] == f"{path}: row 3: question: Value error, is blank"
    assert reasons[2] == f"{path}: row 4: answer: Field required"
    assert "row 5: (row): invalid JSON: expected a JSON object, got list" in reasons[3]
    assert result.rejected[2]["record"] == {"id": "4", "source": "s", "lang": "en", "question": "q"}


def test_missing_and_binary_files_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_records(tmp_path / "nope.jsonl", QARecord, stage="data")
    bad = tmp_path / "bin.jsonl"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="not UTF-8"):
        read_records(bad, QARecord, stage="data")


def test_mcqa_answer_must_index_a_choice(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"id": "1", "source": "s", "lang": "en", "question": "q", "choices": ["a", "b"],
                                "answer": 2}) + "\n")
    result = read_records(path, MCQARecord, stage="evaluate")
    assert result.records == [] and "index 2 but only 2 choices" in result.rejected[0]["reason"]


def test_write_roundtrip_keeps_persian_text(tmp_path):
    record = QARecord(id="1", source="s", lang="fa", question="می‌توانم؟", answer="بله")
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, [record]) == 1
    assert "می‌توانم" in path.read_text(encoding="utf-8")  # real characters, ZWNJ kept
    assert read_records(path, QARecord, stage="x").records == [record]


def test_qa_to_chat_uses_system_prompt_of_the_record_language():
    record = QARecord(id="1", source="s", lang="fa", question="تب دارم", answer="استراحت کنید")
    chat = qa_to_chat(record, {"fa": "دستیار پزشکی", "en": "assistant"})
    assert [(m.role, m.content) for m in chat.messages] == [
        ("system", "دستیار پزشکی"), ("user", "تب دارم"), ("assistant", "استراحت کنید")]
    assert (chat.id, chat.source, chat.lang) == ("1", "s", "fa")
    assert [m.role for m in qa_to_chat(record, {}).messages] == ["user", "assistant"]
