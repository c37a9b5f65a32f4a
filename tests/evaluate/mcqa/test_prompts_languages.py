"""Multiple-choice prompts in the eight languages, a recipe's own prompt file laid over the shipped ones, and
multi-answer questions parsed and scored by exact match of the option set."""

from __future__ import annotations

import json

import pytest

from medadapt.errors import DataError
from medadapt.evaluate.mcqa.benchmark import BenchmarkSpec, prepare_benchmark
from medadapt.evaluate.mcqa.config import BenchmarkRef
from medadapt.evaluate.mcqa.generative import parse_letters, question_message
from medadapt.evaluate.mcqa.metrics import summarise
from medadapt.evaluate.mcqa.prompts import PromptSet, mcqa_prompt
from medadapt.records.kinds import MCQARecord

LANGS = ["en", "fa", "ar", "zh", "ja", "ko", "fr", "es"]


def record(lang: str, **extra) -> MCQARecord:
    return MCQARecord(**{"id": "q", "source": "t", "lang": lang, "subject": "内科", "question": " 问题？ ",
                         "choices": ["甲", "乙", "丙", "丁"], "answer": 1, **extra})


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_a_prompt(lang):
    context, continuations = mcqa_prompt(record(lang))
    assert "问题？\nA. 甲\nB. 乙\nC. 丙\nD. 丁\n" in context and continuations == [" A", " B", " C", " D"]
    assert question_message(record(lang)).startswith("问题？\nA. 甲")


def test_layouts_of_lm_eval_tasks():
    assert mcqa_prompt(record("zh"))[0] == "以下是中国关于内科的单项选择题，请选出其中的正确答案。\n\n问题？\nA. 甲\nB. 乙\nC. 丙\nD. 丁\n答案："
    assert mcqa_prompt(record("ko"))[0] == "问题？\nA. 甲\nB. 乙\nC. 丙\nD. 丁\n정답："
    headqa = PromptSet.load("headqa")
    assert mcqa_prompt(record("es"), "cloze", headqa) == ("Question: 问题？\nAnswer:", [" 甲", " 乙", " 丙", " 丁"])
    multi = record("zh", answer=0, answers=[0, 2])
    assert mcqa_prompt(multi)[0].startswith("以下是中国关于内科的多项选择题")
    assert question_message(multi).endswith("（例如 ACD）。")


def test_a_prompt_file_adds_and_replaces_entries(tmp_path):
    (tmp_path / "prompts.yaml").write_text(
        "en:\n  description: ''\n  question: 'Q: {question}'\n  option: '({letter}) {choice}'\n  answer_cue: 'A:'\n"
        "  instruction: Letter only.\n"
        "tr:\n  description: \"{subject} hakkında sorular.\\n\\n\"\n  question: '{question}'\n  option: '{letter}. {choice}'\n"
        "  answer_cue: 'Cevap:'\n  instruction: Sadece harf.\n", encoding="utf-8")
    prompts = PromptSet.load(file=tmp_path / "prompts.yaml")
    assert mcqa_prompt(record("en"), prompts=prompts)[0] == "Q: 问题？\n(A) 甲\n(B) 乙\n(C) 丙\n(D) 丁\nA:"
    assert mcqa_prompt(record("tr"), prompts=prompts)[0].startswith("内科 hakkında sorular.\n\n")
    assert mcqa_prompt(record("fa"), prompts=prompts)[0].endswith("پاسخ:")  # the other entries stay
    with pytest.raises(DataError, match="no multiple-choice prompt for language 'tr'"):
        mcqa_prompt(record("tr"))
    (tmp_path / "bad.yaml").write_text("en:\n  question: '{question}'\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing description"):
        PromptSet.load(file=tmp_path / "bad.yaml")
    with pytest.raises(DataError, match="no multiple-choice prompt named 'nope'"):
        PromptSet.load("nope")


def test_benchmark_prompt_and_prompt_file_reach_the_prepared_benchmark(tmp_path):
    ref = BenchmarkRef(name="b", path="b.jsonl", prompt="headqa", prompt_file="p.yaml", lang="es")
    assert (ref.prompt, ref.prompt_file, ref.lang) == ("headqa", "p.yaml", "es")
    (tmp_path / "p.yaml").write_text("headqa:\n  description: ''\n  question: 'Pregunta: {question}'\n"
                                     "  option: '{letter}. {choice}'\n  answer_cue: 'Respuesta:'\n  instruction: x\n",
                                     encoding="utf-8")
    data = tmp_path / "b.jsonl"
    data.write_text(json.dumps(record("en").model_dump()) + "\n", encoding="utf-8")
    bench = prepare_benchmark(BenchmarkSpec("b", data, prompt="headqa", prompt_file=tmp_path / "p.yaml", lang="es"))
    assert bench.records[0].lang == "es"
    assert mcqa_prompt(bench.records[0], "cloze", bench.prompts)[0] == "Pregunta: 问题？\nRespuesta:"
    about = bench.describe()
    assert about["prompt"] == "headqa" and about["prompt_file"].endswith("p.yaml") and "prompt_file_sha256" in about
    assert "prompt" not in prepare_benchmark(BenchmarkSpec("b", data)).describe()


@pytest.mark.parametrize("response, expected", [
    ("ACD", [0, 2, 3]), (" A, C\n因为…", [0, 2]), ("答案：B、D", [1, 3]), ("ＡＣ", [0, 2]), ("The answer is A and C.", [0, 2]),
    ("", None), ("无法确定", None), ("AF", None)])
def test_parse_letters(response, expected):
    assert parse_letters(response, 5) == expected


def test_multi_answer_questions_are_reported_beside_single_answer_accuracy():
    predictions = [{"id": "1", "lang": "zh", "subject": "s", "answer": 0, "pred": 0, "correct": True},
                   {"id": "2", "lang": "zh", "subject": "s", "answer": 1, "pred": 0, "correct": False},
                   {"id": "3", "lang": "zh", "subject": "s", "answer": [0, 2], "pred": [0, 2], "correct": True,
                    "parsed": True, "multi_answer": True},
                   {"id": "4", "lang": "zh", "subject": "s", "answer": [1, 2], "pred": [], "correct": False,
                    "parsed": False, "multi_answer": True}]
    metrics = summarise(predictions)
    assert (metrics["acc"], metrics["n"], metrics["unparsed"]) == (0.5, 4, 1)
    assert (metrics["single_answer"]["acc"], metrics["multi_answer"]["acc"]) == (0.5, 0.5)
    assert "multi_answer" not in summarise(predictions[:2]) and "unparsed" not in summarise(predictions[:2])


def test_multi_answer_records_are_checked():
    assert record("zh", answer=0, answers=[0, 2]).answers == [0, 2]
    for bad in ([0], [2, 0], [0, 9], [1, 2]):
        with pytest.raises(ValueError):
            record("zh", answer=0, answers=bad)
