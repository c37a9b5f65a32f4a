"""Importing a real lm-evaluation-harness output: run lm-eval (offline, tiny model) on a task medadapt
exported, save it the way `lm_eval --output_path … --log_samples` does, import it, and check the figures
and per-question results against lm-eval's own and against medadapt's scorer."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.format.exports import write_lm_eval
from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.lm_eval_import import import_task

pytest.importorskip("lm_eval", reason="lm-eval is a test extra: pip install 'medadapt[test]'")

RECORDS = [MCQARecord(id=f"g{i}", source="t", lang="en", subject="medical_genetics" if i % 2 else "anatomy",
                      question=f"Question {i}: which gene or bone is meant here?", choices=["BRCA1", "TP53", "femur", "CFTR"],
                      answer=i % 4) for i in range(6)]


@pytest.fixture(scope="module")
def lm_eval_output(tmp_path_factory, tiny_model_dir):
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    folder = tmp_path_factory.mktemp("lm-eval")
    write_lm_eval(RECORDS, folder / "tiny_genetics.yaml")
    tracker = EvaluationTracker(output_path=str(folder / "out"))
    out = simple_evaluate(model="hf", model_args=f"pretrained={tiny_model_dir},dtype=float32", tasks=["tiny_genetics"],
                          task_manager=TaskManager(include_path=str(folder)), device="cpu", batch_size=4,
                          log_samples=True, evaluation_tracker=tracker)
    tracker.save_results_aggregated(results=out, samples=out["samples"])
    tracker.save_results_samples(task_name="tiny_genetics", samples=out["samples"]["tiny_genetics"])
    [results_file] = (folder / "out").rglob("results_*.json")
    return results_file, out


def test_import_matches_lm_eval_and_medadapt(lm_eval_output, tiny_inference):
    from medadapt.evaluate.mcqa.predict import predict_loglik

    results_file, out = lm_eval_output
    imported, predictions = import_task(results_file, "tiny_genetics")
    metrics = imported["models"]["lm-eval"]
    assert metrics["acc"] == pytest.approx(out["results"]["tiny_genetics"]["acc,none"], abs=1e-4)
    assert metrics["n"] == 6 and set(metrics["by_subject"]) == {"anatomy", "medical_genetics"}
    assert imported["source"] == "lm-evaluation-harness" and imported["num_fewshot"] == 0
    model, tokenizer = tiny_inference
    ours = predict_loglik(model, tokenizer, RECORDS, 4, "ours", "letters")
    assert [(p["id"], p["pred"], p["correct"]) for p in predictions] == [(p["id"], p["pred"], p["correct"]) for p in ours]


def test_import_without_samples_uses_the_normal_interval(lm_eval_output, tmp_path):
    results_file, out = lm_eval_output
    alone = tmp_path / "results_alone.json"
    alone.write_text(results_file.read_text())
    imported, predictions = import_task(alone, "tiny_genetics", metric="acc_norm")
    metrics = imported["models"]["lm-eval"]
    acc, stderr = out["results"]["tiny_genetics"]["acc_norm,none"], out["results"]["tiny_genetics"]["acc_norm_stderr,none"]
    assert predictions == [] and "normal approximation" in metrics["ci95_method"]
    assert metrics["ci95"][0] == pytest.approx(max(0, acc - 1.96 * stderr), abs=1e-4)


def test_cli_import_then_compare(lm_eval_output, tmp_path):
    results_file, _ = lm_eval_output
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "import-lm-eval", str(results_file), "--task", "tiny_genetics",
                                 "--out", str(tmp_path / "imported")])
    assert result.exit_code == 0, result.output
    assert "bootstrap over lm-eval's logged samples" in result.output
    saved = json.loads((tmp_path / "imported/results.json").read_text())
    assert saved["benchmark"] == "tiny_genetics" and len((tmp_path / "imported/predictions.jsonl").read_text().splitlines()) == 6
    compared = runner.invoke(app, ["eval", "compare", str(tmp_path / "imported"), str(tmp_path / "imported")])
    assert compared.exit_code == 0 and "1.0000" in compared.output

    missing = runner.invoke(app, ["eval", "import-lm-eval", str(results_file), "--task", "nope", "--out", str(tmp_path / "x")])
    assert missing.exit_code != 0 and "task 'nope' not in this file" in str(missing.exception)
