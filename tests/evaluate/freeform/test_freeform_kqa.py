"""K-QA checks on real K-QA rows (imported through medadapt's kqa mapping) with a judge on loopback whose
canned verdicts are known per statement: coverage, contradiction and unparsable counts come out exactly."""

from __future__ import annotations

import json
import re

import pytest
from shared_data import SHARED

from medadapt.evaluate.freeform.answers import load_questions
from medadapt.evaluate.freeform.judge import JudgePrompts, Verdict, run_judge
from medadapt.evaluate.freeform.kqa import check_answers, kqa_summary, question_scores
from medadapt.llm.config import BackendConfig
from medadapt.llm.fake_server import FakeOpenAI, serve, user_text

KQA = SHARED / "data/kqa/kqa_en.jsonl"


def texts(record, kind: str) -> list[str]:
    return [s.strip() for s in record.meta[kind]]  # as sent: some K-QA statements end in a space


def canned_verdicts(records) -> dict[str, str]:
    """Statement → the judge's reply: covered, neither, contradicted by turns; one reply is not JSON."""
    labels = ("covered", "neither", "covered", "contradicted")
    replies: dict[str, str] = {}
    statements = [s for r in records for s in texts(r, "Must_have") + texts(r, "Nice_to_have")]
    for i, statement in enumerate(statements):
        replies.setdefault(statement, json.dumps({"verdict": labels[i % 4], "reason": "canned"}))
    replies[texts(records[1], "Must_have")[0]] = "It is covered, I think."
    return replies


@pytest.mark.skipif(not KQA.is_file(), reason="shared K-QA data not present")
def test_kqa_coverage_and_contradiction_counts(tmp_path):
    records, rejected = load_questions(KQA, "kqa", limit=3)
    assert not rejected and all(r.meta["Must_have"] for r in records)
    answers = [{"id": r.id, "lang": r.lang, "model": "m", "question": r.question, "answer": r.answer,
                "meta": r.meta} for r in records]
    replies = canned_verdicts(records)
    fake = FakeOpenAI(responder=lambda body: replies[re.search(r"\[Statement\]\n(.*?)\n\nReply", user_text(body),
                                                               re.S).group(1)])
    with serve(fake) as url:
        config = BackendConfig(kind="openai", base_url=url, model="judge", retry_backoff_s=0.01, timeout_s=5)
        (checked, bad), usage = run_judge(config, "judge", tmp_path, tmp_path / "c.sqlite",
                                          lambda client: check_answers(client, JudgePrompts(), answers, 64, "answers"))
    assert not bad and len(checked) == 3
    assert usage["requests_sent"] + usage["requests_cached"] == sum(
        len(r.meta["Must_have"]) + len(r.meta["Nice_to_have"]) for r in records)

    def label(statement: str) -> str | None:
        reply = replies[statement]
        return json.loads(reply)["verdict"] if reply.startswith("{") else None

    for record, row in zip(records, checked):
        must = [label(s) for s in texts(record, "Must_have")]
        every = must + [label(s) for s in texts(record, "Nice_to_have")]
        assert row["covered"] == must.count("covered") and row["contradicted"] == every.count("contradicted")
        assert row["unparsable"] == every.count(None)
        expected = None if None in must else round(must.count("covered") / len(must), 4)
        assert row["comprehensiveness"] == expected
        assert row["hallucination"] == (True if "contradicted" in every else None if None in every else False)
        assert [s["statement"] for s in row["statements"]] == texts(record, "Must_have") + texts(record, "Nice_to_have")
    assert any(row["hallucination"] for row in checked) and any(row["covered"] for row in checked)
    assert checked[1]["comprehensiveness"] is None  # its first must-have verdict was prose
    assert checked[1]["statements"][0]["raw"] == "It is covered, I think."

    summary = kqa_summary(checked)["m"]
    scored = [row["comprehensiveness"] for row in checked if row["comprehensiveness"] is not None]
    assert summary["comprehensiveness"]["n"] == len(scored) == 2
    assert summary["comprehensiveness"]["mean"] == round(sum(scored) / 2, 4)
    assert summary["unscored"]["comprehensiveness"] == 1
    assert summary["statements"]["unparsable"] == 1 and summary["statements"]["failed"] == 0


def test_question_scores_rules():
    covered, neither, contra, broken = (Verdict("covered"), Verdict("neither"), Verdict("contradicted"),
                                        Verdict(None, unparsable="no JSON"))
    scores = question_scores([covered, neither, covered, covered], [contra])
    assert scores["comprehensiveness"] == 0.75 and scores["hallucination"] is True
    assert question_scores([covered], [broken])["hallucination"] is None  # unknown, not "no hallucination"
    assert question_scores([covered, broken], [contra])["hallucination"] is True  # known despite the gap
    assert question_scores([covered, broken], [])["comprehensiveness"] is None
    assert question_scores([neither], [neither])["hallucination"] is False


def test_malformed_statements_are_quarantined_and_plain_questions_skipped(tmp_path):
    rows = [{"id": "a", "lang": "en", "model": "m", "question": "q", "answer": "x", "meta": {"Must_have": "one"}},
            {"id": "b", "lang": "en", "model": "m", "question": "q", "answer": "x"}]
    fake = FakeOpenAI()
    with serve(fake) as url:
        config = BackendConfig(kind="openai", base_url=url, model="judge", timeout_s=5)
        (checked, bad), _ = run_judge(config, "judge", tmp_path, tmp_path / "c.sqlite",
                                      lambda client: check_answers(client, JudgePrompts(), rows, 64, "answers.jsonl"))
    assert checked == [] and not fake.log
    assert len(bad) == 1 and bad[0]["id"] == "a" and bad[0]["field"] == "meta.Must_have"
    assert bad[0]["reason"].startswith("answers.jsonl: row 1: meta.Must_have: expected a list of non-empty texts")
