from __future__ import annotations

import pytest

from medadapt.evaluate.mcqa.generative import parse_choice
from medadapt.evaluate.mcqa.metrics import mcnemar, paired_mcnemar, summarise
from medadapt.evaluate.metrics import bootstrap_ci95

CHOICES = ["Aspirin", "Insulin", "Metformin", "Vitamin D"]


@pytest.mark.parametrize("response, expected", [
    ("B", 1), ("B) Insulin", 1), ("The answer is C.", 2), ("(d)", 3), ("answer: a", 0),
    ("پاسخ: ج", 2), ("گزینه ۲", 1), ("الف", 0), ("الإجابة هي ٤", 3), ("Insulin is used.", 1),
    ("I think it is metformin", 2), ("", None), ("I am not sure.", None), ("Aspirin or insulin", None),
])
def test_parse_choice(response, expected):
    assert parse_choice(response, CHOICES) == expected


def test_parse_choice_reads_persian_typed_with_arabic_keyboard_letters():
    choices = ["کبد", "کلیه", "قلب", "ریه"]
    assert parse_choice("الف نه؛ گزينه ب", choices) == 1  # the cue گزینه, written with an Arabic yeh, is found
    assert parse_choice("فكر مي كنم كليه", choices) == 1  # option text with Arabic kaf and yeh


def test_summary_has_interval_pass_mark_and_unparsed():
    predictions = [{"subject": "s1" if i < 6 else "s2", "lang": "fa", "correct": i % 2 == 0, "parsed": i != 3}
                   for i in range(10)]
    metrics = summarise(predictions, pass_mark=0.36)
    assert metrics["acc"] == 0.5 and metrics["n"] == 10 and metrics["passed"] is True
    low, high = metrics["ci95"]
    assert low < 0.5 < high and 0.0 <= low and high <= 1.0
    assert metrics["unparsed"] == 1
    assert metrics["by_subject"]["s1"]["n"] == 6 and metrics["macro_acc"] == 0.5
    assert summarise(predictions, pass_mark=0.6)["passed"] is False


def test_bootstrap_is_seeded_and_degenerate_cases():
    values = [1.0, 0.0] * 20
    assert bootstrap_ci95(values) == bootstrap_ci95(values)
    assert bootstrap_ci95([1.0] * 5) == (1.0, 1.0)


def test_mcnemar_exact():
    a = [True] * 10 + [False] * 10
    b = [False] * 10 + [False] * 10
    result = mcnemar(a, b)
    assert result["only_a"] == 10 and result["only_b"] == 0
    assert result["p_value"] == pytest.approx(2 / 2**10)
    assert mcnemar(a, a)["p_value"] == 1.0


def test_paired_mcnemar_matches_questions_by_id_not_position():
    base = [{"id": f"q{i}", "correct": i < 3} for i in range(8)]  # right on q0-q2
    other = [{"id": f"q{i}", "correct": i >= 2} for i in reversed(range(8))] + [{"id": "extra", "correct": True}]
    result = paired_mcnemar(other, base)  # other: right on q2-q7; only other right on q3-q7, only base on q0, q1
    assert (result["only_a"], result["only_b"], result["n"]) == (5, 2, 8)
    assert result["p_value"] == pytest.approx(mcnemar([True] * 5 + [False] * 2, [False] * 5 + [True] * 2)["p_value"])
