"""Every public benchmark layout medadapt names reads its sample file (tests/evaluate/mcqa/samples, written
to look like the real releases) into the right question, options, answer(s), subject and language, and every
named benchmark points at a shipped mapping and prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from medadapt.evaluate.mcqa.benchmark import definitions, load_questions
from medadapt.evaluate.mcqa.prompts import PromptSet
from medadapt.records.mapping import shipped_mappings

SAMPLES = Path(__file__).with_name("samples")


def test_cmb_reports_by_exam_type_and_keeps_multi_answer_questions():
    records, rejected = load_questions(SAMPLES / "cmb.json", "cmb")
    assert not rejected and [r.lang for r in records] == ["zh"] * 4
    assert [r.subject for r in records] == ["医师考试", "护理考试", "药师考试", "医师考试"]
    assert records[0].topic == "临床执业医师" and records[0].answer == 1 and records[0].answers is None
    assert (records[2].answer, records[2].answers) == (0, [0, 3])
    assert records[2].explanation.startswith("普萘洛尔")
    assert records[3].answers == [0, 1, 2] and records[3].choices == ["多饮", "多尿", "体重减轻", "发热"]


def test_kormedmcqa():
    records, rejected = load_questions(SAMPLES / "kormedmcqa.jsonl", "kormedmcqa")
    assert not rejected and [(r.lang, r.subject, r.answer) for r in records] == [
        ("ko", "doctor", 1), ("ko", "nurse", 0), ("ko", "pharm", 1)]
    assert len(records[0].choices) == 5 and records[0].meta == {"year": 2022} and records[0].explanation is None


def test_headqa_es():
    records, rejected = load_questions(SAMPLES / "headqa.json", "headqa")
    assert not rejected and [(r.id, r.lang, r.subject, r.answer) for r in records] == [
        ("12", "es", "biology", 2), ("48", "es", "medicine", 0), ("7", "es", "nursery", 1)]
    assert records[0].choices[2] == "La hemoglobina."


def test_frenchmedmcqa_single_and_multiple():
    records, rejected = load_questions(SAMPLES / "frenchmedmcqa.json", "frenchmedmcqa")
    assert not rejected and [r.lang for r in records] == ["fr", "fr"]
    assert (records[0].id, records[0].answer, records[0].answers) == ("fr-1", 0, None)
    assert (records[1].answer, records[1].answers, records[1].subject) == (0, [0, 2, 4], "pharmacie")


def test_mmedbench_language_from_the_benchmark():
    records, rejected = load_questions(SAMPLES / "mmedbench-ja.jsonl", "mmedbench", lang="ja")
    assert not rejected and [r.lang for r in records] == ["ja", "ja"]
    assert records[0].answer == 1 and records[0].explanation.startswith("鉄欠乏")
    assert records[1].answers == [0, 2]
    assert definitions()["mmedbench-ja"]["lang"] == "ja"
    assert {f"mmedbench-{lang}" for lang in ("zh", "ja", "fr", "es", "ru")} <= set(definitions())


def test_english_benchmarks():
    medqa, _ = load_questions(SAMPLES / "medqa.jsonl", "medqa-usmle")
    assert (medqa[0].answer, medqa[0].choices[1], medqa[0].lang) == (1, "Acute pyelonephritis", "en")
    medmcqa, _ = load_questions(SAMPLES / "medmcqa.jsonl", "medmcqa-hf")
    assert (medmcqa[0].answer, medmcqa[0].subject, medmcqa[0].topic) == (3, "Anatomy", "Head and neck")
    pubmedqa, rejected = load_questions(SAMPLES / "pubmedqa.jsonl", "pubmedqa")
    assert not rejected and [(r.id, r.choices, r.answer) for r in pubmedqa] == [
        ("21645374", ["yes", "no", "maybe"], 0), ("16418930", ["yes", "no", "maybe"], 2)]
    mmlu, _ = load_questions(SAMPLES / "mmlu.jsonl", "mmlu")
    assert [(r.subject, r.answer, len(r.choices)) for r in mmlu] == [("anatomy", 1, 4), ("clinical_knowledge", 0, 4)]


def test_every_definition_names_a_mapping_and_a_prompt():
    prompts = PromptSet().templates
    for name, spec in definitions().items():
        assert spec["format"] in shipped_mappings(), name
        assert spec.get("prompt", "en") in prompts, name
        assert spec.get("lang", "en") in prompts, name
    fa = {n for n in definitions() if n.startswith("gaokerena-mmlu-")}
    assert len(fa) == 6
    english = {n for n in definitions() if n.startswith("mmlu-")}
    assert english == {f"mmlu-{s}" for s in ("anatomy", "clinical-knowledge", "college-biology", "college-medicine",
                                              "medical-genetics", "professional-medicine")}


@pytest.mark.parametrize("answer", ["AC", "A,C", "A、C", "a, c"])
def test_several_letters_name_a_set(tmp_path, answer):
    import json

    path = tmp_path / "cmb.json"
    path.write_text(json.dumps([{"question": "多选", "option": {"A": "甲", "B": "乙", "C": "丙"}, "answer": answer,
                                 "exam_type": "医师考试", "exam_subject": "内科"}], ensure_ascii=False), encoding="utf-8")
    records, rejected = load_questions(path, "cmb")
    assert not rejected and records[0].answers == [0, 2]
