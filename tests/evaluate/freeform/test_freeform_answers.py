"""Free-form answers with latency: the tiny model streams real answers (TTFT within the wall time, tokens
counted), a re-run answers only what is missing, and a served model's answers are timed as not streamed."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from medadapt.records.kinds import QARecord
from medadapt.evaluate.freeform.answers import (BackendAnswerer, LocalAnswerer, answer_questions, latency_summary,
                                        load_questions, read_answers)
from medadapt.llm.config import BackendConfig
from medadapt.llm.fake_server import FakeOpenAI, serve
from medadapt.llm.http_backend import OpenAIBackend

QUIET = Console(quiet=True)


def records(n: int) -> list[QARecord]:
    return [QARecord(id=f"q{i}", source="t", lang="en", question=f"What helps a fever {i}?", answer="Rest and water.")
            for i in range(n)]


@pytest.fixture(scope="module")
def generator(tiny_inference):
    from medadapt.llm.streaming import Generator

    model, tokenizer = tiny_inference
    return Generator(model, tokenizer, "tiny")


def counting(answerer):
    """Wrap ``answerer.answer`` to count calls."""
    calls = []
    original = answerer.answer

    def answer(question, lang):
        calls.append(question)
        return original(question, lang)

    answerer.answer = answer
    return calls


def test_local_answers_are_timed_and_resumed(generator, tmp_path):
    path = tmp_path / "answers.jsonl"
    answerer = LocalAnswerer("base", generator, max_new_tokens=6, system_prompt="Be brief.")
    rows = answer_questions(answerer, records(3), path, QUIET)
    assert [r["id"] for r in rows] == ["q0", "q1", "q2"] and all(r["model"] == "base" for r in rows)
    for row in rows:
        assert 0 < row["ttft_s"] <= row["wall_s"] and row["streamed"] is True
        assert 1 <= row["tokens"] <= 6 and row["tokens_per_s"] == pytest.approx(row["tokens"] / row["wall_s"], rel=0.02)
        assert row["reference"] == "Rest and water." and row["question"].startswith("What helps a fever")
    assert read_answers(path)[0] == rows

    calls = counting(answerer)
    again = answer_questions(answerer, records(4), path, QUIET)  # one more question than before
    assert calls == ["What helps a fever 3?"] and again[:3] == rows

    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "q9", "mod')  # a write cut short by a kill
    calls.clear()
    assert answer_questions(answerer, records(4), path, QUIET) == again and calls == []
    assert read_answers(path) == (again, 0)  # the broken line is gone


def test_other_settings_or_a_changed_question_are_answered_again(generator, tmp_path):
    path = tmp_path / "answers.jsonl"
    answer_questions(LocalAnswerer("base", generator, max_new_tokens=4), records(2), path, QUIET)
    answer_questions(LocalAnswerer("other", generator, max_new_tokens=4), records(2), path, QUIET)
    longer = LocalAnswerer("base", generator, max_new_tokens=5)
    calls = counting(longer)
    answer_questions(longer, records(2), path, QUIET)
    assert len(calls) == 2
    changed = records(2)
    changed[1] = QARecord(id="q1", source="t", lang="en", question="A new question?", answer="x")
    calls = counting(longer)
    answer_questions(longer, changed, path, QUIET)
    assert calls == ["A new question?"]
    rows, _ = read_answers(path)
    assert sorted((r["model"], r["id"]) for r in rows) == [("base", "q0"), ("base", "q1"), ("other", "q0"),
                                                           ("other", "q1")]  # no stale duplicates


def test_latency_summary():
    rows = [{"model": "m", "ttft_s": t, "wall_s": w, "tokens": k, "answer": a, "streamed": True}
            for t, w, k, a in ((0.1, 1.0, 10, "one two three"), (0.3, 3.0, 20, "one"), (0.2, 2.0, 30, "a b"))]
    summary = latency_summary(rows + [{**rows[0], "model": "served", "tokens": None, "streamed": False}])
    assert summary["m"] == {"n": 3, "streamed": True, "mean_ttft_s": 0.2, "median_ttft_s": 0.2, "tokens_per_s": 10.0,
                            "mean_answer_tokens": 20.0, "mean_answer_words": 2.0, "mean_wall_s": 2.0}
    assert summary["served"]["tokens_per_s"] is None and summary["served"]["streamed"] is False


def test_a_served_model_is_timed_without_the_cache(tmp_path):
    fake = FakeOpenAI(latency_s=0.05)
    with serve(fake) as url:
        config = BackendConfig(kind="openai", base_url=url, model="served-model", timeout_s=5)
        answerer = BackendAnswerer("served", OpenAIBackend(config, None), 64, system_prompt="Answer briefly.")
        try:
            rows = answer_questions(answerer, records(2), tmp_path / "a.jsonl", QUIET)
        finally:
            answerer.close()
    assert len(fake.log) == 2 and fake.log[0]["body"]["messages"][0] == {"role": "system", "content": "Answer briefly."}
    assert fake.log[0]["body"]["max_tokens"] == 64 and fake.log[0]["body"]["temperature"] == 0.0
    for row in rows:
        assert row["streamed"] is False and row["ttft_s"] == row["wall_s"] >= 0.05
        assert row["tokens"] == len(row["answer"].split())


def test_questions_through_a_mapping_keep_their_statements(tmp_path):
    path = tmp_path / "kqa.jsonl"
    rows = [{"Question": "Is ibuprofen safe?", "Free_form_answer": "Usually.", "Must_have": ["It is an NSAID"],
             "Nice_to_have": []}, {"Question": "", "Free_form_answer": "x", "Must_have": [], "Nice_to_have": []}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    loaded, rejected = load_questions(path, "kqa")
    assert len(loaded) == 1 and loaded[0].meta["Must_have"] == ["It is an NSAID"]
    assert len(rejected) == 1 and "question" in rejected[0]["reason"]
    from medadapt.errors import DataError

    with pytest.raises(DataError, match="gives mcqa records, not qa"):
        load_questions(path, "mcqa")
