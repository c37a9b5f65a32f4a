"""Translate → self-score → refine against the fake server: every round kept, the loop stops at the threshold
or max_rounds, the review queue round-trips through CSV, and the API key is in no file the run writes."""

from __future__ import annotations

import csv
import json

from generate_helpers import API_KEY, qa_rows, read_jsonl, run_generate, write_recipe, write_records

from medadapt.llm.fake_server import default_responder, user_text


def scoring_responder(body):
    """Round 1 scores 40, a refined translation 95; item 2 never gets better than 30."""
    text = user_text(body)
    if '{"score"' in text:
        if "number 2" in text:
            return '{"score": 30, "feedback": "wrong term"}'
        return '{"score": 95, "feedback": ""}' if "REFINED" in text else '{"score": 40, "feedback": "use terms"}'
    if "Feedback:" in text:
        translation = json.loads(text.rsplit("```json", 1)[1].split("```")[0])
        return json.dumps({k: f"REFINED {v}" for k, v in translation.items()})
    return default_responder(body)


def test_refine_loop_review_export_and_import(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    fake.responder = scoring_responder
    data = write_records(tmp_path / "qa.jsonl", qa_rows(3))
    task = {"task": "translate", "input": str(data), "source_lang": "en", "target_lang": "fa", "threshold": 80,
            "max_rounds": 3, "review": {"below": 80, "sample_high": 0.0},
            "cycle": {"min_chrf": 10}}
    recipe = write_recipe(tmp_path, fake.url, [task])
    runs = tmp_path / "runs"
    assert run_generate(recipe, runs) == 0

    out = runs / "gen" / "generate"
    rows = {r["translation"]["from_id"]: r for r in read_jsonl(out / "translate.jsonl")}
    assert [len(rows[i]["translation"]["rounds"]) for i in ("q0", "q1", "q2")] == [2, 2, 3]
    assert rows["q0"]["translation"]["score"] == 95 and rows["q0"]["question"].startswith("REFINED ~")
    assert rows["q0"]["lang"] == "fa" and rows["q0"]["id"] == "q0-fa"
    assert [r["score"] for r in rows["q2"]["translation"]["rounds"]] == [30, 30, 30]
    cycle = rows["q0"]["translation"]["cycle"]
    assert cycle["chrf"] >= 10 and len(cycle["bleu_1_4"]) == 4
    assert 0.3 < cycle["cosine"] < 1  # all-MiniLM-L6-v2 on the English source and its back-translation
    # q0: translate, score, refine, score, back-translate = 5; q2: translate + 3 scores + 2 refines + back = 7
    assert len(fake.log) == 5 + 5 + 7
    assert all(entry["authorization"] == f"Bearer {API_KEY}" for entry in fake.log)

    queue = list(csv.DictReader((out / "review" / "translate.csv").open(encoding="utf-8")))
    assert {(r["id"], r["field"], r["why"]) for r in queue} == {("q2-fa", "question", "low score"),
                                                             ("q2-fa", "answer", "low score")}

    decisions = tmp_path / "decisions.csv"
    with decisions.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(queue[0]))
        writer.writeheader()
        writer.writerow({**queue[0], "decision": "edit", "edit": "تب چه کمکی دارد؟"})
        writer.writerow({**queue[0], "id": "q1-fa", "decision": "reject"})
        writer.writerow({**queue[0], "id": "q0-fa", "decision": "maybe"})
    task["review"]["decisions"] = str(decisions)
    recipe = write_recipe(tmp_path, fake.url, [task])
    sent_before = len(fake.log)
    assert run_generate(recipe, runs) == 0
    assert len(fake.log) == sent_before  # every answer came from the cache

    rows = {r["id"]: r for r in read_jsonl(out / "translate.jsonl")}
    assert set(rows) == {"q0-fa", "q2-fa"}
    assert rows["q2-fa"]["question"] == "تب چه کمکی دارد؟" and rows["q2-fa"]["translation"]["review"] == "edited"
    rejected = read_jsonl(out / "rejected.jsonl")
    reasons = [r["reason"] for r in rejected]
    assert any("row 3: reviewer rejected" in r for r in reasons)
    assert any("row 4: decision: 'maybe' is not one of" in r for r in reasons)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["requests"]["requests_sent"] == 0 and stats["requests"]["requests_cached"] == 17

    for path in (runs / "gen").rglob("*"):
        if path.is_file():
            assert API_KEY.encode() not in path.read_bytes(), path


def test_cycle_consistency_below_threshold_is_rejected_with_scores(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    data = write_records(tmp_path / "qa.jsonl", qa_rows(2, lang="fa"))
    task = {"task": "translate", "input": str(data), "source_lang": "fa", "target_lang": "en", "prompt_lang": "fa",
            "cycle": {"min_chrf": 99.5, "min_cosine": 0.99}}
    runs = tmp_path / "runs"
    assert run_generate(write_recipe(tmp_path, fake.url, [task]), runs) == 0
    out = runs / "gen" / "generate"
    assert read_jsonl(out / "translate.jsonl") == []
    rejected = read_jsonl(out / "rejected.jsonl")
    assert len(rejected) == 2 and all("cycle-consistency: chrF" in r["reason"] for r in rejected)
    assert all(r["translation"]["cycle"]["back"]["question"].startswith("~~") for r in rejected)
    assert all(r["translation"]["cycle"]["cosine"] is None and "cosine" not in r["reason"] for r in rejected)
    assert "فارسی" in fake.log[0]["body"]["messages"][1]["content"]  # the Persian instructions were used
    stats = json.loads((out / "stats.json").read_text())
    assert stats["tasks"]["translate"]["embedding_note"].startswith("no embedding model fits fa")


def test_malformed_score_is_quarantined_with_the_rounds_so_far(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    fake.responder = lambda body: ('{"score": 101}' if '{"score"' in user_text(body) else default_responder(body))
    data = write_records(tmp_path / "qa.jsonl", qa_rows(1))
    task = {"task": "translate", "input": str(data), "source_lang": "en", "target_lang": "ar"}
    runs = tmp_path / "runs"
    assert run_generate(write_recipe(tmp_path, fake.url, [task]), runs) == 0
    (entry,) = read_jsonl(runs / "gen" / "generate" / "rejected.jsonl")
    assert entry["id"] == "q0" and entry["raw"] == '{"score": 101}'
    assert "round 1 score: malformed answer: score: 101 is outside 0–100" in entry["reason"]
    assert entry["rounds"][0]["text"]["question"].startswith("~What helps")
