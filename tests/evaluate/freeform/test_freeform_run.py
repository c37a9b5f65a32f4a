"""``run_freeform`` as the evaluate stage calls it: two tiny models answer, a judge on loopback compares them
and checks their statements, every output file is written, and a re-run answers and asks nothing again."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from rich.console import Console

from medadapt.errors import RecipeError
from medadapt.evaluate.freeform.answers import TimedAnswer
from medadapt.evaluate.freeform.config import FreeformConfig
from medadapt.evaluate.freeform.run import judged_pairs, run_freeform
from medadapt.llm.fake_server import FakeOpenAI, serve
from medadapt.recipe import Recipe
from medadapt.runs.stage import RunDir, StageContext

QUESTIONS = [{"id": f"q{i}", "source": "t", "lang": "en", "question": f"What helps fever {i}?",
              "answer": "Rest and fluids.", "meta": {"Must_have": ["Rest helps", "Fluids help"], "Nice_to_have": []}}
             for i in range(2)] + [{"id": "bad", "source": "t", "lang": "en", "question": " ", "answer": "x"}]


class CannedAnswerer:
    """Another kind of answerer (as a translate pipeline will be), given to run_freeform as a factory."""

    label = "trained"
    identity = {"canned": 1}

    def answer(self, question: str, lang: str) -> TimedAnswer:
        return TimedAnswer("Rest and drink fluids.", 0.01, 4, 0.02, streamed=False)


def context(tmp_path, model: str, attempt: int) -> StageContext:
    recipe = Recipe(name="t", languages=["en"], model=model, chat={"system_prompt": "Be brief."})
    run = RunDir(tmp_path / "runs" / "t")
    return StageContext(recipe, tmp_path, run, run.partial_dir(f"evaluate{attempt}"), Console(quiet=True))


def config(url: str) -> FreeformConfig:
    return FreeformConfig.model_validate({
        "questions": "questions.jsonl", "max_new_tokens": 4, "checks": ["pairwise", "kqa"],
        "judge": {"backend": {"kind": "openai", "base_url": url, "model": "judge", "api_key_env": "FREEFORM_TEST_KEY",
                              "timeout_s": 5, "retry_backoff_s": 0.01}}})


def test_run_freeform_writes_every_output_and_resumes(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("FREEFORM_TEST_KEY", "sk-freeform-SECRET")
    (tmp_path / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    models = [("base", str(tiny_model_dir), None)]
    fake = FakeOpenAI(responder=lambda body: '{"verdict": "covered"}' if "[Statement]" in body["messages"][-1]["content"]
                      else '{"better": "tie", "reason": "same"}')
    with serve(fake) as url:
        summary = run_freeform(context(tmp_path, str(tiny_model_dir), 1), models, config(url), [CannedAnswerer])
        sent = len(fake.log)
        again = run_freeform(context(tmp_path, str(tiny_model_dir), 2), models, config(url), [CannedAnswerer])
    assert sent == 2 * 2 + 2 * 2 * 2 and len(fake.log) == sent  # pairwise both orders + 2 statements per answer
    assert all(entry["authorization"] == "Bearer sk-freeform-SECRET" for entry in fake.log)
    assert again == summary
    assert summary["freeform.trained_vs_base.win_rate"] == 0.5
    assert summary["freeform.base.kqa_comprehensiveness"] == 1.0
    assert summary["freeform.trained.kqa_hallucination_rate"] == 0.0
    assert summary["freeform.base.mean_ttft_s"] > 0

    out = tmp_path / "runs" / "t" / ".evaluate1.partial" / "freeform"
    names = {p.name for p in out.iterdir()}
    assert names == {"answers.jsonl", "latency.json", "judgements.jsonl", "judge.json", "kqa.jsonl", "kqa.json",
                     "rejected.jsonl"}
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert [(a["model"], a["id"]) for a in answers] == [("base", "q0"), ("base", "q1"), ("trained", "q0"),
                                                        ("trained", "q1")]
    judge = json.loads((out / "judge.json").read_text())
    assert judge["pairs"]["trained vs base"]["ties"] == 2 and judge["judge"]["prompts"]["en"]["pairwise"]
    assert set(json.loads((out / "latency.json").read_text())) == {"base", "trained"}
    assert "question" in json.loads((out / "rejected.jsonl").read_text().splitlines()[0])["reason"]
    for path in (tmp_path / "runs").rglob("*"):
        if path.is_file():
            assert b"sk-freeform-SECRET" not in path.read_bytes(), path


def test_pairs_and_config_checks():
    assert judged_pairs(["base", "trained"], None, "r.yaml") == [("trained", "base")]
    assert judged_pairs(["base", "trained", "pipeline:p"], None, "r.yaml") == [("pipeline:p", "base"),
                                                                                ("pipeline:p", "trained")]
    with pytest.raises(RecipeError, match="no model labelled nope"):
        judged_pairs(["base", "trained"], [("trained", "nope")], "r.yaml")
    with pytest.raises(RecipeError, match="pairwise needs two models"):
        judged_pairs(["trained"], None, "r.yaml")
    with pytest.raises(ValidationError, match="need a judge"):
        FreeformConfig(questions="q.jsonl", checks=["kqa"])
    with pytest.raises(ValidationError, match="Extra inputs"):
        FreeformConfig(questions="q.jsonl", typo=1)
