"""Importers: every row becomes a record or a quarantined entry naming file, row and field."""

from __future__ import annotations

import json

import pytest

from medadapt.records.answers import answer_index
from medadapt.records.importers import import_file
from medadapt.records.mapping import load_mapping, shipped_mappings
from medadapt.errors import DataError

MCQA_MAPPING = """
kind: mcqa
lang: fa
source: exam
fields: {id: id, question: q, answer: ans, subject: topic}
choices: {columns: [o1, o2, o3, o4]}
answer_format: one_based
"""


def test_bad_csv_rows_are_quarantined_and_good_rows_still_import(tmp_path):
    mapping = tmp_path / "exam.yaml"
    mapping.write_text(MCQA_MAPPING, encoding="utf-8")
    csv = tmp_path / "exam.csv"
    lines = [
        "id,q,o1,o2,o3,o4,ans,topic",
        "1,كدام يک؟,الف,ب,ج,د,2,فیزیولوژی",  # Arabic-form letters: kept as they are
        "2,Which?,a,b,c,d,5,x",  # answer outside the options
        "3,   ,a,b,c,d,1,x",  # empty question
        "1,Again?,a,b,c,d,1,x",  # duplicate id
        "4,Too,many,fields,a,b,c,d,1,x",
        "5,Middle empty,a,,c,d,1,x",
        "6,Three options,a,b,c,,3,x",  # fewer options than columns: fine
    ]
    data = ("\n".join(lines) + "\n").encode() + b"7,Bad \xff bytes,a,b,c,d,1,x\n"
    csv.write_bytes(data)
    result = import_file(csv, str(mapping))
    assert [r.id for r in result.records] == ["1", "6"]
    first = result.records[0]
    assert first.question == "كدام يک؟" and first.answer == 1 and first.subject == "فیزیولوژی"
    assert result.records[1].choices == ["a", "b", "c"] and result.records[1].answer == 2
    reasons = [r["reason"] for r in result.rejected]
    assert reasons == [
        f"{csv}: row 3: answer: 5 is outside the 4 options (one-based)",
        f"{csv}: row 4: question: Value error, is blank",
        f"{csv}: row 5: id: duplicate id '1'",
        f"{csv}: row 6: (row): 10 fields but the header has 8",
        f"{csv}: row 7: choices: option 2 is empty",
        f"{csv}: row 9: q: invalid UTF-8 bytes in this field",
    ]
    assert result.rows == 8 and result.rejected[0]["record"]["ans"] == "5"


def test_missing_column_names_the_column(tmp_path):
    csv = tmp_path / "qa.csv"
    csv.write_text("Question,Reply\nWhy?,Because.\n", encoding="utf-8")
    result = import_file(csv, "gaokerena-mf3qa")
    assert result.records == []
    assert result.rejected[0]["reason"].startswith(f"{csv}: row 2: answer: missing column 'Answer'")


def test_every_sheet_of_an_xlsx_is_read_and_named(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "2023"
    first.append(["question", "option1", "option2", "option3", "option4", "answer", "Source"])
    first.append(["q1", "a", "b", "c", "d", 2, "mmlu-anatomy_translation"])
    second = book.create_sheet("2024")
    second.append(["question", "option1", "option2", "option3", "option4", "answer", "Source"])
    second.append(["q2", "a", "b", "c", "d", 4.0, "mmlu-anatomy_translation"])
    second.append(["q3", "a", "b", "c", "d", 9, "mmlu-anatomy_translation"])
    notes = book.create_sheet("notes")
    notes.append(["comment"])
    notes.append(["translated in 2024"])
    path = tmp_path / "exam.xlsx"
    book.save(path)

    result = import_file(path, "gaokerena-mmlu-fa")
    assert [(r.id, r.answer, r.subject) for r in result.records] == [("exam:2023:2", 1, "anatomy"), ("exam:2024:2", 3, "anatomy")]
    assert dict(result.rows_by_part) == {"2023": 1, "2024": 2, "notes": 1}
    reasons = [r["reason"] for r in result.rejected]
    assert reasons[0] == f"{path}: sheet 2024: row 3: answer: 9 is outside the 4 options (one-based)"
    assert reasons[1].startswith(f"{path}: sheet notes: row 2: question: missing columns 'question', 'answer'")


@pytest.mark.parametrize(("value", "fmt", "index"), [
    ("1", "one_based", 0), (4, "one_based", 3), ("3.0", "one_based", 2), ("0", "zero_based", 0),
    ("c", "letter", 2), ("(B)", "letter", 1), ("الف", "persian_letter", 0), ("د", "persian_letter", 3),
    ("Tibia", "text", 1),
])
def test_answer_formats(value, fmt, index):
    assert answer_index(value, fmt, ["Femur", "Tibia", "Ulna", "Radius"]) == index


@pytest.mark.parametrize(("value", "fmt", "message"), [
    ("0", "one_based", "0 is outside the 4 options"), ("E", "letter", "E is outside the 4 options"),
    ("ABD", "letter", "several answers"), ("ه", "persian_letter", "outside the 4 options"),
    ("x", "zero_based", "not a number"), ("", "letter", "is empty"), ("Fibula", "text", "matches 0 options"),
])
def test_bad_answers_say_why(value, fmt, message):
    with pytest.raises(ValueError, match=message):
        answer_index(value, fmt, ["Femur", "Tibia", "Ulna", "Radius"])


def test_options_as_a_dict_or_a_list_of_objects(tmp_path):
    medqa = tmp_path / "medqa.jsonl"
    medqa.write_text(json.dumps({"question": "Which drug?", "answer": "B text", "answer_idx": "B",
                                 "options": {"A": "A text", "B": "B text", "C": "C text", "D": "D text", "E": "E"},
                                 "meta_info": "step1"}) + "\n", encoding="utf-8")
    record = import_file(medqa, "medqa-usmle").records[0]
    assert (record.choices[1], record.answer, record.lang, record.topic) == ("B text", 1, "en", "step1")

    headqa = tmp_path / "headqa.json"
    headqa.write_text(json.dumps({"data": [{"qid": 7, "qtext": "¿Qué?", "ra": 3, "category": "medicine",
                                            "answers": [{"aid": i, "atext": f"r{i}"} for i in range(1, 5)]}]}),
                      encoding="utf-8")
    record = import_file(headqa, "headqa").records[0]
    assert (record.id, record.choices, record.answer, record.lang) == ("7", ["r1", "r2", "r3", "r4"], 2, "es")


def test_shipped_layouts_of_public_benchmarks(tmp_path):
    medmcqa = tmp_path / "dev.json"
    medmcqa.write_text(json.dumps({"id": "m1", "question": "Q?", "opa": "a", "opb": "b", "opc": "c", "opd": "d",
                                   "cop": 4, "exp": "because", "subject_name": "Anatomy", "topic_name": None}) + "\n")
    medmcqa = medmcqa.rename(tmp_path / "dev.jsonl")
    record = import_file(medmcqa, "medmcqa").records[0]
    assert (record.answer, record.explanation, record.subject, record.topic) == (3, "because", "Anatomy", None)

    cmb = tmp_path / "cmb.json"
    rows = [{"question": "问题", "option": {"A": "甲", "B": "乙", "C": "丙"}, "answer": "B", "exam_subject": "内科",
             "exam_type": "医师考试"},
            {"question": "多选", "option": {"A": "甲", "B": "乙", "C": "丙"}, "answer": "AC", "exam_subject": "内科",
             "exam_type": "医师考试"}]
    cmb.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    result = import_file(cmb, "cmb")
    assert [(r.answer, r.answers, r.lang) for r in result.records] == [(1, None, "zh"), (0, [0, 2], "zh")]
    assert not result.rejected

    kor = tmp_path / "kor.csv"
    kor.write_text("subject,year,question,A,B,C,D,E,answer,cot\ndoctor,2022,질문?,가,나,다,라,마,5,\n", encoding="utf-8")
    record = import_file(kor, "kormedmcqa").records[0]
    assert (record.answer, len(record.choices), record.explanation, record.meta) == (4, 5, None, {"year": "2022"})


def test_ner_bio_file(tmp_path):
    conll = tmp_path / "ner.conll"
    conll.write_text("-DOCSTART- O\n\nAspirin B-DRUG\ncauses O\nReye B-DISEASE\nsyndrome I-DISEASE\n\nNo O\nentity\n\n"
                     "Fine O\n", encoding="utf-8")
    result = import_file(conll, "ner", lang="en", source="toy")
    assert [r.tokens for r in result.records] == [["Aspirin", "causes", "Reye", "syndrome"], ["Fine"]]
    assert result.rejected[0]["reason"] == f"{conll}: row 2: tags: token 2 has no tag"


def test_every_shipped_mapping_loads():
    assert {"gaokerena-mmlu-fa", "gaokerena-exams", "gaokerena-medmcqa-fa", "gaokerena-mf3qa", "kqa", "medqa-usmle",
            "medmcqa", "headqa", "cmb", "kormedmcqa", "alpaca", "sharegpt", "openai"} <= set(shipped_mappings())
    for name in shipped_mappings():
        assert load_mapping(name).description


def test_unknown_format_and_bad_mapping_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="unknown format or mapping"):
        import_file(tmp_path / "x.csv", "no-such-mapping")
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: mcqa\nfields: {question: q}\n", encoding="utf-8")
    with pytest.raises(DataError, match="an mcqa mapping needs `choices`"):
        load_mapping(str(bad))
