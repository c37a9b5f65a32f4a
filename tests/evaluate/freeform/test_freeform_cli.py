"""``eval answer``, ``eval judge`` and ``eval kqa`` through typer's CliRunner: the tiny model and a fake
server answer, a judge on loopback compares and checks; tables print, files are written, the API key stays
in the environment."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from medadapt.evaluate.freeform.cli import freeform_app
from medadapt.llm.errors import LLMError
from medadapt.llm.fake_server import FakeOpenAI, serve, user_text

KEY = "sk-judge-SECRET-42"
QUESTIONS = [{"id": f"q{i}", "source": "t", "lang": "en", "question": f"What helps fever {i}?", "answer": "Rest.",
              "meta": {"Must_have": ["Rest helps"], "Nice_to_have": ["Fluids help"]}} for i in range(2)]


def judge_reply(body: dict) -> str:
    text = user_text(body)
    if "[Statement]" in text:
        return '{"verdict": "contradicted" , "reason": "r"}' if "Fluids" in text else '{"verdict": "covered"}'
    return '{"better": "2", "reason": "the second"}'  # always the answer shown second: all ties


def invoke(*args: str):
    return CliRunner().invoke(freeform_app, [str(a) for a in args])


def test_answer_judge_and_kqa_commands(tmp_path, tiny_model_dir, monkeypatch):
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    out = tmp_path / "answers"
    result = invoke("answer", "--model", tiny_model_dir, "--questions", questions, "--out", out, "--label", "tiny",
                    "--max-new-tokens", "4")
    assert result.exit_code == 0, result.output
    assert "latency" in result.output and "tiny" in result.output

    judge, served = FakeOpenAI(responder=judge_reply), FakeOpenAI()
    monkeypatch.setenv("JUDGE_KEY", KEY)
    with serve(judge) as judge_url, serve(served) as served_url:
        result = invoke("answer", "--model", "served-model", "--url", served_url, "--questions", questions,
                        "--out", out, "--label", "served")
        assert result.exit_code == 0, result.output
        assert "not streamed" in result.output and len(served.log) == 2
        judged = invoke("judge", out / "answers.jsonl", out / "answers.jsonl", "--label-a", "tiny", "--label-b",
                        "served", "--judge-model", "judge", "--judge-url", judge_url, "--api-key-env", "JUDGE_KEY",
                        "--out", tmp_path / "judge")
        checked = invoke("kqa", out / "answers.jsonl", "--judge-model", "judge", "--judge-url", judge_url,
                         "--api-key-env", "JUDGE_KEY", "--out", tmp_path / "kqa")
        ambiguous = invoke("judge", out / "answers.jsonl", out / "answers.jsonl", "--judge-model", "judge",
                           "--judge-url", judge_url, "--out", tmp_path / "j2")
    assert judged.exit_code == 0, judged.output
    assert "pairwise judge: tiny (A) vs served (B)" in judged.output and "0.500" in judged.output
    summary = json.loads((tmp_path / "judge" / "judge.json").read_text())["pairs"]["tiny vs served"]
    assert summary["ties"] == 2 and summary["position_bias"] == {"first_shown_share": 0.0, "flip_rate": 1.0}
    assert checked.exit_code == 0, checked.output
    assert "K-QA" in checked.output
    kqa = json.loads((tmp_path / "kqa" / "kqa.json").read_text())["models"]
    assert set(kqa) == {"tiny", "served"}
    assert kqa["tiny"]["comprehensiveness"]["mean"] == 1.0 and kqa["tiny"]["hallucination_rate"]["mean"] == 1.0
    assert ambiguous.exit_code == 2 and "several models (served, tiny)" in ambiguous.output
    assert all(entry["authorization"] == f"Bearer {KEY}" for entry in judge.log)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path

    rows = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert sorted(r["model"] for r in rows) == ["served", "served", "tiny", "tiny"]
    assert set(json.loads((out / "latency.json").read_text())) == {"tiny", "served"}


def test_missing_key_and_help(tmp_path, monkeypatch):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "q", "lang": "en", "model": "m", "question": "q", "answer": "a",
                                   "meta": {"Must_have": ["x"]}}) + "\n", encoding="utf-8")
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    result = invoke("kqa", answers, "--judge-model", "j", "--judge-url", "http://127.0.0.1:9/v1",
                    "--api-key-env", "NO_SUCH_KEY", "--out", tmp_path / "out")
    assert isinstance(result.exception, LLMError)
    assert "environment variable NO_SUCH_KEY is not set" in str(result.exception)
    for command in ("answer", "judge", "kqa"):
        shown = invoke(command, "--help")
        assert shown.exit_code == 0 and "--out" in shown.output and "Usage" in shown.output
    assert "--api-key-env" in invoke("judge", "--help").output


@pytest.mark.parametrize("line, message", [('{"id": "q"}', "row 1: missing lang, model, question, answer"),
                                           ("not json", "1 lines are not JSON")])
def test_unreadable_answers_files_are_one_line_errors(tmp_path, line, message):
    from medadapt.errors import DataError

    answers = tmp_path / "answers.jsonl"
    answers.write_text(line + "\n", encoding="utf-8")
    result = invoke("kqa", answers, "--judge-model", "j", "--judge-url", "http://127.0.0.1:9/v1", "--out", tmp_path)
    assert isinstance(result.exception, DataError) and message in str(result.exception)
