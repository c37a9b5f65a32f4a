"""The perplexity kind: answers scored given their question in the chat template (against a hand computation
with one plain forward pass), any Q&A file through a data mapping, the paired comparison in results.json and
`eval compare`, and the evaluate stage leaving tables and a plot for the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.errors import DataError
from medadapt.evaluate.kinds import Contestant
from medadapt.evaluate.perplexity.run import PerplexityJob, PerplexitySpec, run_perplexity
from medadapt.evaluate.stage import EvaluateStage
from medadapt.recipe import Recipe
from medadapt.runs.stage import RunDir, StageContext

SYSTEM = "You are a careful medical assistant."
QA = [("I have a fever and a headache.", "Drink water and rest. See a doctor if it gets worse.", "en"),
      ("فشار خون بالا خطر سکته را افزایش می‌دهد؟", "بله. به پزشک مراجعه کنید.", "fa")]
TEXTS = ["The patient has a fever and a headache. Drink water and rest.", "Hypertension raises the risk of stroke."]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def qa_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "qa.jsonl", [{"id": f"q{i}", "source": "forum", "lang": lang, "question": q,
                                                "answer": a} for i, (q, a, lang) in enumerate(QA)])


def text_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "text.jsonl", [{"id": f"t{i}", "source": "site", "lang": "en", "text": t}
                                                 for i, t in enumerate(TEXTS)])


def hand_computed(model_dir: Path, question: str, answer: str) -> float:
    """Σ log p of every token after the assistant header (the answer and <|im_end|>\\n), from the logits of one
    plain forward pass over the rendered conversation."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": answer}], tokenize=False)
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    start = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert full.endswith(answer + "<|im_end|>\n") and ids[:start] == tokenizer(prompt, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logprobs = torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), -1)
    return sum(float(logprobs[i - 1, ids[i]]) for i in range(start, len(ids)))


def test_answer_bits_per_byte_equal_a_hand_computation(tmp_path, tiny_model_dir):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "perplexity", "--model", str(tiny_model_dir), "--data",
                                      str(qa_file(tmp_path)), "--format", "qa", "--system-prompt", SYSTEM,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = [hand_computed(tiny_model_dir, q, a) for q, a, lang in QA if lang == "en"]  # the system prompt's
    assert scores[0]["loglikelihood"] == pytest.approx(expected[0], rel=1e-5)
    answer_bytes = len(QA[0][1].encode("utf-8"))
    assert scores[0]["bytes"] == answer_bytes
    assert scores[0]["bits_per_byte"] == pytest.approx(-expected[0] / answer_bytes / math.log(2), rel=1e-5)
    figures = json.loads((out / "results.json").read_text(encoding="utf-8"))["models"]["model"]
    assert figures["n"] == 2 and set(figures["by_lang"]) == {"en", "fa"} and figures["bits_per_byte"] > 0


def test_any_qa_file_through_a_mapping(tmp_path, tiny_model_dir):
    data = tmp_path / "dev.csv"
    data.write_text("Question,Answer,Source\n" + "".join(f'"{q}","{a}",clinic\n' for q, a, _ in QA), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "perplexity", "--model", str(tiny_model_dir), "--data", str(data),
                                      "--format", "gaokerena-mf3qa", "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["kind"] == "answer" and results["models"]["model"]["n"] == 2
    bad = CliRunner().invoke(app, ["eval", "perplexity", "--model", str(tiny_model_dir), "--data", str(data),
                                   "--format", "mcqa"])
    assert isinstance(bad.exception, DataError) and "dev.csv" in str(bad.exception)  # one line naming the file


def test_paired_comparison_and_eval_compare(tmp_path, tiny_model_dir):
    from tiny import build_tiny_llama

    other = build_tiny_llama(tmp_path / "other", seed=1)
    job = PerplexityJob(model="tiny", sets=[PerplexitySpec("qa", qa_file(tmp_path), "qa"),
                                            PerplexitySpec("text", text_file(tmp_path), "text")],
                        contestants=[Contestant("base", str(tiny_model_dir)), Contestant("trained", str(other))],
                        max_length=256)
    results = run_perplexity(job, Console(quiet=True), lambda name: tmp_path / "run" / "evaluate" / "perplexity" / name)
    for name in ("qa", "text"):
        (pair,) = results[name]["paired"]
        base, trained = results[name]["models"]["base"], results[name]["models"]["trained"]
        assert (pair["a"], pair["b"], pair["n"]) == ("trained", "base", 2)
        assert pair["relative_change"] == pytest.approx(trained["bits_per_byte"] / base["bits_per_byte"] - 1, abs=1e-5)
        low, high = pair["ci95"]
        assert low <= pair["mean_difference"] <= high
    compared = CliRunner().invoke(app, ["eval", "compare", str(tmp_path / "run")])
    assert compared.exit_code == 0, compared.output
    assert "bits per byte" in compared.output and "trained" in compared.output and "text" in compared.output


def test_stage_writes_tables_and_plot(tmp_path, tiny_model_dir):
    qa_file(tmp_path), text_file(tmp_path)
    recipe = Recipe(name="t", languages=["en", "fa"], model=str(tiny_model_dir),
                    evaluate={"perplexity": {"sets": [{"name": "answers", "path": "qa.jsonl", "format": "qa"},
                                                      {"name": "corpus", "path": "text.jsonl"}], "max_length": 256}})
    run = RunDir(tmp_path / "runs" / "t")
    out = run.partial_dir("evaluate")
    out.mkdir(parents=True)
    stage = EvaluateStage()
    assert set(stage.inputs(recipe, tmp_path, run)) == {"perplexity.answers", "perplexity.corpus"}
    summary = stage.run(StageContext(recipe, tmp_path, run, out, Console(quiet=True)))
    assert set(summary) == {"perplexity.answers.base.bits_per_byte", "perplexity.corpus.base.bits_per_byte"}
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    tables = report["perplexity"]["tables"]
    assert [t["name"] for t in tables] == ["answers", "corpus"] and report["benchmarks"] == []
    assert tables[1]["rows"][0]["cells"][0]["bits_per_byte"] == pytest.approx(
        summary["perplexity.corpus.base.bits_per_byte"], abs=1e-4)
    assert (out / report["perplexity"]["plot"]).stat().st_size > 0
