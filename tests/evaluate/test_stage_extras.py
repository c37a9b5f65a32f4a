"""The evaluate stage beyond plain scoring, through `medadapt run`: the contamination check leaves trained-on
questions out, a translate-pipeline baseline is scored from cached translations (fake OpenAI server on
loopback), and an lm-eval result is imported as a column; the report shows all three."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.llm.fake_server import FakeOpenAI, default_responder, serve

LEAKED = "Which enzyme is deficient in classic phenylketonuria presenting in early infancy with seizures?"
QUESTIONS = [("en", LEAKED), ("en", "Which nerve supplies the diaphragm in adults?"),
             ("fa", "کدام عصب دیافراگم را عصب دهی می کند؟"), ("fa", "کمبود کدام ویتامین باعث اسکوروی می شود؟")]


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


def lm_eval_files(folder):
    """A minimal lm-eval output: results_<date>.json and samples_<task>_<date>.jsonl beside it."""
    folder.mkdir()
    date = "2026-11-23T20-00-00.000000"
    (folder / f"results_{date}.json").write_text(json.dumps({
        "results": {"tiny_task": {"alias": "tiny_task", "acc,none": 0.5, "acc_stderr,none": 0.2887}},
        "n-shot": {"tiny_task": 0}, "n-samples": {"tiny_task": {"original": 4, "effective": 4}},
        "config": {"model": "hf", "model_args": "pretrained=tiny"}}))
    write_jsonl(folder / f"samples_tiny_task_{date}.jsonl", [
        {"doc_id": i, "doc": {"id": f"m{i}", "lang": lang, "subject": "anatomy"}, "target": 0,
         "filtered_resps": [[-1.0, False], [-2.0, False]], "acc": float(i % 2 == 0)}
        for i, (lang, _) in enumerate(QUESTIONS)])
    return folder / f"results_{date}.json"


def test_decontaminate_pipeline_and_lm_eval_import(tmp_path, tiny_model_dir):
    write_jsonl(tmp_path / "mcqa.jsonl", [
        {"id": f"m{i}", "source": "t", "lang": lang, "question": q, "choices": ["a", "b", "c", "d"], "answer": 0,
         "subject": "anatomy"} for i, (lang, q) in enumerate(QUESTIONS)])
    write_jsonl(tmp_path / "trained_on.jsonl", [{"id": "t1", "text": "Forum post: " + LEAKED + " I think PAH."}])
    results_file = lm_eval_files(tmp_path / "lm-eval")
    write_jsonl(tmp_path / "held_out.jsonl", [
        {"id": "h1", "source": "t", "lang": "en", "question": "Is aspirin safe for children?", "answer": "No."},
        {"id": "h2", "source": "t", "lang": "fa", "question": "تب کودکم بالاست", "answer": "به پزشک مراجعه کنید."}])

    def responder(body):  # a judge that always prefers the answer shown first; translations as usual
        return '{"better": "1", "reason": "first"}' if '"better"' in body["messages"][-1]["content"] else default_responder(body)

    fake = FakeOpenAI(responder)
    runner = CliRunner()
    with serve(fake) as url:
        recipe = tmp_path / "recipe.yaml"
        recipe.write_text(f"""
name: extras
languages: [en, fa]
model: {tiny_model_dir}
evaluate:
  benchmarks: [{{name: tiny-mcqa, path: mcqa.jsonl}}]
  decontamination: {{action: exclude, training_data: [trained_on.jsonl]}}
  pipelines:
    - name: via-en
      model: {tiny_model_dir}
      translator: {{kind: openai, base_url: "{url}", model: fake-translator, max_retries: 0}}
  lm_eval_results: [{{file: {results_file}, task: tiny_task, benchmark: tiny-mcqa, label: lm-eval}}]
  freeform:
    questions: held_out.jsonl
    max_new_tokens: 4
    checks: [pairwise]
    judge: {{backend: {{kind: openai, base_url: "{url}", model: fake-judge, max_retries: 0}}}}
report: {{}}
""", encoding="utf-8")
        runs = tmp_path / "runs"
        result = runner.invoke(app, ["run", str(recipe), "--runs-dir", str(runs)])
        assert result.exit_code == 0, result.output
        models = [entry["body"]["model"] for entry in fake.log]
        # MCQA: one translation per Persian question; free-form: the Persian question into English (its answer
        # goes back only when the tiny model wrote visible text); English questions go as they are
        assert 3 <= models.count("fake-translator") <= 4
        assert 1 <= models.count("fake-judge") <= 4  # two orders per question; identical prompts are sent once
        sent = len(fake.log)
        again = runner.invoke(app, ["run", str(recipe), "--runs-dir", str(runs), "--force", "evaluate"])
        assert again.exit_code == 0, again.output
        assert len(fake.log) == sent  # translations, answers and verdicts all come from the stored state

    results = json.loads((runs / "extras/evaluate/tiny-mcqa/results.json").read_text())
    assert results["contamination"]["contaminated"] == 1 and results["contamination"]["items"]["m0"]["row"] == 1
    assert set(results["models"]) == {"base", "pipeline:via-en", "lm-eval"}
    assert results["models"]["base"]["n"] == 3 and results["models"]["pipeline:via-en"]["n"] == 3
    assert results["pipelines"]["pipeline:via-en"]["translated"] == 2
    lm_eval = results["models"]["lm-eval"]
    assert lm_eval["n"] == 4 and lm_eval["acc"] == 0.5 and "bootstrap" in lm_eval["ci95_method"]
    predictions = [json.loads(line) for line in (runs / "extras/evaluate/tiny-mcqa/predictions.jsonl").read_text().splitlines()]
    assert sum(p["model"] == "pipeline:via-en" for p in predictions) == 3
    html = (runs / "extras/report/index.html").read_text()
    assert "Contamination check" in html and "left out of scoring" in html and "<th>pipeline:via-en</th>" in html
    assert "2 translated, 0 kept" in html
    latency = json.loads((runs / "extras/evaluate/freeform/latency.json").read_text())
    assert set(latency) == {"base", "pipeline:via-en"} and latency["pipeline:via-en"]["streamed"] is False
    judged = json.loads((runs / "extras/evaluate/freeform/judge.json").read_text())["pairs"]["pipeline:via-en vs base"]
    assert judged["ties"] == 2 and judged["position_bias"]["first_shown_share"] == 1.0
    assert "mean TTFT (s)" in html and 'src="evaluate-win-rates.png"' in html
    assert (runs / "extras/report/evaluate-win-rates.png").stat().st_size > 1000


def test_unknown_benchmark_for_an_import_is_a_recipe_error(tmp_path, tiny_model_dir):
    import pytest

    from medadapt.errors import RecipeError
    from medadapt.recipe import load_recipe

    (tmp_path / "a.jsonl").write_text("")
    (tmp_path / "r.json").write_text("{}")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"""
name: bad
languages: [en]
model: {tiny_model_dir}
evaluate:
  benchmarks: [{{name: a, path: a.jsonl}}]
  lm_eval_results: [{{file: r.json, task: t, benchmark: typo}}]
""", encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        load_recipe(recipe)
    assert caught.value.one_line() == f"{recipe}: evaluate: lm_eval_results[0].benchmark: no benchmark named 'typo'"


def test_eval_mcqa_cli_checks_training_data_and_runs_a_pipeline(tmp_path, tiny_model_dir):
    write_jsonl(tmp_path / "mcqa.jsonl", [
        {"id": f"m{i}", "source": "t", "lang": lang, "question": q, "choices": ["a", "b", "c", "d"], "answer": 0,
         "subject": "anatomy"} for i, (lang, q) in enumerate(QUESTIONS)])
    write_jsonl(tmp_path / "trained_on.jsonl", [{"id": "t1", "messages": [{"role": "user", "content": LEAKED},
                                                                         {"role": "assistant", "content": "PAH"}]}])
    fake = FakeOpenAI()
    with serve(fake) as url:
        result = CliRunner().invoke(app, [
            "eval", "mcqa", "--model", str(tiny_model_dir), "--benchmark", str(tmp_path / "mcqa.jsonl"),
            "--training-data", str(tmp_path / "trained_on.jsonl"), "--exclude-contaminated",
            "--translator", "fake-translator", "--translator-url", url, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 of 4 questions found in the training data (left out)" in result.output
    assert "translated 2 questions into en" in result.output and len(fake.log) == 2
    saved = json.loads((tmp_path / "out/results.json").read_text())
    assert saved["models"]["model"]["n"] == 3 and saved["pipelines"]["model"]["translated"] == 2
    assert saved["contamination"]["items"]["m0"]["file"] == "trained_on.jsonl"
