"""Injected faults end in a retry or a recorded failure, never a crash or a lost record; budgets stop cleanly
and a re-run continues without asking again what is stored; malformed judge/QA answers are quarantined."""

from __future__ import annotations

import json

from generate_helpers import API_KEY, qa_rows, read_jsonl, run_generate, write_recipe, write_records

from medadapt.llm.fake_server import default_responder, user_text
from medadapt.records.importers import import_file


def test_every_fault_is_retried_or_recorded(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    plan = {0: "429", 1: "500", 2: "timeout", 3: "malformed", 4: "truncated"}
    fake.faults = lambda n, body: "500" if "number 7?" in user_text(body) else plan.get(n)
    fake.timeout_s = 1.0
    data = write_records(tmp_path / "qa.jsonl", qa_rows(10))
    recipe = write_recipe(tmp_path, fake.url, [{"task": "expand", "input": str(data)}], timeout_s=0.5, max_retries=2,
                          concurrency=1)
    runs = tmp_path / "runs"
    assert run_generate(recipe, runs) == 2  # one item failed after its retries: reported, not lost
    partial = runs / "gen" / ".generate.partial"
    written = {r["id"] for r in read_jsonl(partial / "expand.jsonl")}
    rejected = {r["id"] for r in read_jsonl(partial / "rejected.jsonl")}
    done = {i.removesuffix("-expanded") for i in written} | rejected
    assert done == {f"q{i}" for i in range(10) if i != 7} and len(written) + len(rejected) == 9
    stats = json.loads((partial / "stats.json").read_text())
    assert stats["tasks"]["expand"]["failed"] == 1 and "q7" in stats["tasks"]["expand"]["failures"][0]
    manifest = json.loads((runs / "gen" / "manifest.json").read_text())
    assert manifest["stages"]["generate"]["status"] == "failed"

    fake.faults = lambda n, body: None
    before = len(fake.log)
    assert run_generate(recipe, runs) == 0
    assert len(fake.log) == before + 1 and "number 7?" in user_text(fake.log[-1]["body"])
    out = runs / "gen" / "generate"
    assert len(read_jsonl(out / "expand.jsonl")) + len(read_jsonl(out / "rejected.jsonl")) == 10


def test_max_requests_stops_cleanly_and_rerun_continues(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    data = write_records(tmp_path / "qa.jsonl", qa_rows(10))
    recipe = write_recipe(tmp_path, fake.url, [{"task": "expand", "input": str(data)}], concurrency=1)
    runs = tmp_path / "runs"
    assert run_generate(recipe, runs, "--max-requests", "4") == 3
    assert len(fake.log) == 4
    assert run_generate(recipe, runs, "--max-cost", "0.000000001") == 3  # spent after the first answers
    assert 5 <= len(fake.log) <= 6  # at most the two workers' requests in flight when it was spent
    assert run_generate(recipe, runs, "--max-cost", "100") == 0
    assert len(fake.log) == 10 and len(set(fake.prompts())) == 10
    rows = import_file(runs / "gen" / "generate" / "expand.jsonl", "qa")
    assert [r.id for r in rows.records] == [f"q{i}-expanded" for i in range(10)] and not rows.rejected
    assert rows.records[3].short_answer == "Rest and water 3." and "Rest and water 3." in rows.records[3].answer
    stats = json.loads((runs / "gen" / "generate" / "stats.json").read_text())
    assert stats["requests"]["requests_sent"] + stats["requests"]["requests_cached"] == 10
    assert stats["requests"]["requests_cached"] >= 5
    assert stats["requests"]["cost_usd"] > 0  # gpt-4o-mini is priced in the shipped table


def test_judge_qa_generation_and_conversations_quarantine_bad_answers(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)

    def responder(body):
        text = user_text(body)
        if "number 1?" in text:
            return '{"logical_consistency": 0.9, "factual_accuracy": 0.2, "sound_reasoning": 0.9}'
        if "number 2?" in text:
            return '{"logical_consistency": 7, "factual_accuracy": 1, "sound_reasoning": 1}'
        if "Broken" in text and "###MCQ" in text:
            return "###MCQ\n###Question: ?\n"
        if "###Patient" in text and "Ulnar" in text:
            return "###Patient: My arm hurts.\n###Doctor: Rest it.\n###Patient: Which nerve?\n###Doctor: The vagus."
        return default_responder(body)

    fake.responder = responder
    qa = write_records(tmp_path / "qa.jsonl", qa_rows(3))
    articles = write_records(tmp_path / "articles.jsonl", [
        {"id": "a0", "source": "mag", "lang": "en", "title": "Fever", "text": "Fever is a raised temperature."},
        {"id": "a1", "source": "mag", "lang": "en", "title": "Broken", "text": "Broken bones need a cast."},
        {"id": "a2", "source": "mag", "lang": "en", "text": ""},
    ])
    exams = write_records(tmp_path / "mcqa.jsonl", [
        {"id": "m0", "source": "exam", "lang": "fa", "question": "عصب دیافراگم؟", "choices": ["واگ", "فرنیک"], "answer": 1},
        {"id": "m1", "source": "exam", "lang": "en", "question": "Arm nerve?", "choices": ["Ulnar", "Vagus"], "answer": 0},
    ])
    tasks = [{"task": "judge", "input": str(qa), "keep_threshold": 0.5},
             {"task": "qa_generate", "input": str(articles), "name": "exam"},
             {"task": "conversation", "input": str(exams)}]
    runs = tmp_path / "runs"
    assert run_generate(write_recipe(tmp_path, fake.url, tasks), runs) == 0
    out = runs / "gen" / "generate"
    assert [r["id"] for r in read_jsonl(out / "judge.jsonl")] == ["q0"]
    mcqa = import_file(out / "exam.mcqa.jsonl", "mcqa")
    assert [r.id for r in mcqa.records] == ["a0-mcq"] and mcqa.records[0].answer == 0 and not mcqa.rejected
    assert [r["id"] for r in read_jsonl(out / "exam.qa.jsonl")] == ["a0-saq"]
    reasons = {r["id"]: r["reason"] for r in read_jsonl(out / "rejected.jsonl")}
    assert "factual_accuracy 0.2 < 0.5" in reasons["q1"]
    assert "logical_consistency: 7 is outside" in reasons["q2"]
    assert "malformed answer: expected one ###MCQ and one ###SAQ" in reasons["a1"]
    assert "text" in reasons["a2"]  # the blank article was rejected when read, with its field
    chats = import_file(out / "conversation.jsonl", "chat")
    assert [c.id for c in chats.records] == ["m0-conversation"] and not chats.rejected
    assert [m.role for m in chats.records[0].messages] == ["user", "assistant"] * 2
    assert "فرنیک" in chats.records[0].messages[-1].content
    assert "does not give the answer 'Ulnar'" in reasons["m1"]
