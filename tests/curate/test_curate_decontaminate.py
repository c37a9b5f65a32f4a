"""Decontamination against evaluation sets: long questions by 13-grams, short ones whole, across spellings."""

from __future__ import annotations

import pytest
from curate_helpers import article, qa, step, write_jsonl

from medadapt.errors import RecipeError

LONG_Q = ("Which of the following enzymes is responsible for converting angiotensin I into angiotensin II "
          "in the pulmonary circulation of healthy adults?")
SHORT_Q = "كدام یک از اعمال دستگاه گلژي نمی باشد؟"  # Arabic-form letters, as in the exam PDF


def test_contaminated_records_removed_with_the_benchmark_named(tmp_path):
    bench = write_jsonl(tmp_path / "exam.jsonl", [
        {"id": "e1", "source": "exam", "lang": "en", "question": LONG_Q, "choices": ["ACE", "renin"], "answer": 0},
        {"id": "e2", "source": "exam", "lang": "fa", "question": SHORT_Q, "choices": ["a", "b"], "answer": 1},
        {"id": "e3", "source": "exam", "lang": "en", "question": "Define fever.", "choices": ["a", "b"], "answer": 0},
    ])
    decontaminate = step({"step": "decontaminate"}, evaluation_files={"exam": bench})
    docs = [
        article("leak-long", "Quiz time! " + LONG_Q.replace("Which", "which") + " Answer: ACE."),
        qa("leak-short", "سوال: کدام یک از اعمال دستگاه گلژی نمی‌باشد", "سنتز پروتئین"),  # Persian letters, ZWNJ
        qa("clean", "What enzyme converts angiotensin I?", "Angiotensin-converting enzyme in the lungs.", lang="en"),
        qa("short-eval-too-generic", "Define fever.", "A raised body temperature.", lang="en"),
    ]
    result = decontaminate.apply(docs)
    assert [d.id for d in result.kept] == ["clean", "short-eval-too-generic"]
    reasons = {r.doc.id: r.reason for r in result.rejected}
    assert "exam item e1" in reasons["leak-long"] and "exam item e2" in reasons["leak-short"]
    assert all(r.rule == "contaminated" for r in result.rejected)
    assert result.counters["evaluation items: exam"] == 3


def test_nothing_to_check_against_is_a_recipe_error():
    with pytest.raises(RecipeError, match="no evaluation sets"):
        step({"step": "decontaminate", "use_recipe_benchmarks": True})


def test_a_benchmark_read_through_its_data_mapping(tmp_path):
    """An exam kept as the CSV it came in (gaokerena-mmlu-fa layout) is read with its mapping, not as JSONL."""
    from shared_data import SHARED

    genetics = SHARED / "data/gaokerena/mmlu_fa/mmlu-medical_genetics_fa.csv"
    if not genetics.is_file():
        pytest.skip(f"shared data not present: {genetics}")
    from medadapt.evaluate.mcqa.benchmark import load_questions

    questions, _ = load_questions(genetics, "gaokerena-mmlu-fa")
    leaked = max(questions, key=lambda q: len(q.question.split()))
    decontaminate = step({"step": "decontaminate"}, evaluation_files={"genetics": genetics},
                         evaluation_formats={"genetics": "gaokerena-mmlu-fa"})
    result = decontaminate.apply([qa("leak", leaked.question, "پاسخ"), qa("clean", "سردرد دارم، چه کنم؟", "استراحت")])
    assert [d.id for d in result.kept] == ["clean"]
    assert f"genetics item {leaked.id}" in result.rejected[0].reason
    assert result.counters["evaluation items: genetics"] == 100
