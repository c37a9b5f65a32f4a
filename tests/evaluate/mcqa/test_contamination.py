"""The decontamination check before scoring: questions found in training rows of any kind are reported,
with the file, row and shared words; questions too short to judge are counted, not guessed."""

from __future__ import annotations

import json

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.contamination import check_contamination

LONG = "Which of the following enzymes is deficient in patients with classic phenylketonuria presenting in infancy?"
MEDIUM = "Which vitamin deficiency causes scurvy in sailors?"  # 7 words: must appear whole
SHORT = "Which bone?"


def record(i: int, question: str, lang: str = "en") -> MCQARecord:
    return MCQARecord(id=f"q{i}", source="t", lang=lang, question=question, choices=["a", "b", "c", "d"], answer=0)


def write(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_questions_found_in_text_and_chat_rows(tmp_path):
    text = write(tmp_path / "stage1_text.jsonl", [
        {"id": "a", "text": "An unrelated article about the heart and its valves."},
        {"id": "b", "text": "Exam recall: " + LONG.upper() + " The answer was phenylalanine hydroxylase."},
    ])
    chat = write(tmp_path / "stage2_chat.jsonl", [
        {"id": "c", "messages": [{"role": "user", "content": f"Quiz me. {MEDIUM}"},
                                 {"role": "assistant", "content": "Vitamin C."}]},
    ])
    questions = [record(1, LONG), record(2, "Which vitamin deficiency causes scurvy in sailors at sea?"),
                 record(3, SHORT), record(4, "A question nobody trained on, about renal physiology and urea.")]
    report = check_contamination(questions, [text, chat], ngram=8, min_words=5)
    assert set(report.hits) == {"q1"}  # q2 has 10 words: it needs an 8-gram, and "at sea" is not in the chat
    assert report.hits["q1"]["file"] == "stage1_text.jsonl" and report.hits["q1"]["row"] == 2
    assert report.too_short == ["q3"] and report.rows_checked == 3

    report = check_contamination([record(5, MEDIUM)], [text, chat], ngram=8, min_words=5)
    assert report.hits["q5"] == {"file": "stage2_chat.jsonl", "row": 1,
                                 "shared": "which vitamin deficiency causes scurvy in sailors"}
    summary = report.as_dict(excluded=True)
    assert summary["contaminated"] == 1 and summary["excluded"] == 1 and summary["training_rows"] == 3


def test_persian_question_matches_across_letter_variants(tmp_path):
    question = "کدام یک از آنزیم های زیر در بیماران مبتلا به فنیل کتونوری کلاسیک کمبود دارد"
    arabic_forms = question.replace("ک", "ك").replace("ی", "ي")
    qa = write(tmp_path / "qa.jsonl", [{"id": "x", "question": arabic_forms, "answer": "فنیل آلانین هیدروکسیلاز"}])
    report = check_contamination([record(1, question, "fa")], [qa])
    assert set(report.hits) == {"q1"}
