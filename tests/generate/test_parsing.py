"""Each task's parser on canned answers: good ones parse, broken ones raise MalformedResponse with a reason."""

from __future__ import annotations

import pytest

from medadapt.generate.parsing import conversation_turns, free_text, generated_questions, judge_scores, self_score
from medadapt.llm.errors import MalformedResponse

GOOD_QA = """###MCQ
###Question: Which nerve supplies the diaphragm?
###Options:
A. Vagus
B. Phrenic
C. Radial
D. Ulnar
###Answer: B
###Rationale: The phrenic nerve (C3-C5) innervates it.
###SAQ
###Question: Name the nerve of the diaphragm.
###Answer: The phrenic nerve.
###Rationale: It arises from C3-C5."""


def test_self_score_reads_score_and_feedback_and_rejects_out_of_range():
    assert self_score('{"score": 72, "feedback": "fix term"}') == (72.0, "fix term")
    with pytest.raises(MalformedResponse, match="outside 0–100"):
        self_score('{"score": 140}')
    with pytest.raises(MalformedResponse, match="expected a number"):
        self_score('{"score": "high"}')


def test_judge_scores_must_be_between_0_and_1():
    criteria = ("logical_consistency", "factual_accuracy")
    assert judge_scores('{"logical_consistency": 1, "factual_accuracy": 0.5}', criteria) == {
        "logical_consistency": 1.0, "factual_accuracy": 0.5}
    with pytest.raises(MalformedResponse, match="factual_accuracy: 7 is outside"):
        judge_scores('{"logical_consistency": 1, "factual_accuracy": 7}', criteria)


def test_generated_questions_parse_strictly():
    made = generated_questions(GOOD_QA)
    assert made.options == ["Vagus", "Phrenic", "Radial", "Ulnar"] and made.mcq_answer == 1
    assert made.saq_answer == "The phrenic nerve." and "C3-C5" in made.saq_rationale
    with pytest.raises(MalformedResponse, match="not one of ABCD"):
        generated_questions(GOOD_QA.replace("###Answer: B", "###Answer: E"))
    with pytest.raises(MalformedResponse, match="one ###MCQ and one ###SAQ"):
        generated_questions(GOOD_QA.split("###SAQ")[0])
    with pytest.raises(MalformedResponse, match="missing ###Rationale"):
        generated_questions(GOOD_QA.replace("###Rationale: The phrenic nerve (C3-C5) innervates it.\n", ""))


def test_free_text_cut_off_keeps_whole_sentences_or_is_malformed():
    assert free_text("Rest well. Drink wat", "length") == "Rest well."
    assert free_text("Rest well. Drink water", "stop") == "Rest well. Drink water"
    with pytest.raises(MalformedResponse, match="cut off"):
        free_text("Rest well and drink", "length")


def test_conversation_turns_alternate_from_patient_to_doctor():
    good = "###Patient: I have a fever.\n###Doctor: Rest.\n###Patient: And?\n###Doctor: Paracetamol."
    assert conversation_turns(good, 4)[-1] == ("Doctor", "Paracetamol.")
    with pytest.raises(MalformedResponse, match="got Doctor Patient"):
        conversation_turns("###Doctor: hi\n###Patient: x", 2)
    with pytest.raises(MalformedResponse, match="outside"):
        conversation_turns("Sure! Here it is:\n" + good, 4)
    with pytest.raises(MalformedResponse, match="at least 6 turns"):
        conversation_turns(good, 6)
