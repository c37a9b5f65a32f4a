"""The whole skeleton road on a tiny random model: data → train → evaluate → report, then chat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medadapt.cli.main import app

QA = [
    ("en", "I have a fever and a headache. What should I do?", "Drink water, rest, and see a doctor if it lasts."),
    ("en", "Is aspirin safe for children?", "No. Aspirin can cause Reye syndrome in children; ask a doctor."),
    ("fa", "سردرد دارم، چه کنم؟", "آب بنوشید و استراحت کنید. اگر ادامه داشت به پزشک مراجعه کنید."),
    ("fa", "تب کودکم بالاست", "فوراً به پزشک مراجعه کنید."),
    ("en", "How much water should I drink?", "About two litres a day for most adults."),
    ("de", "Ich habe Fieber.", "Bitte ruhen Sie sich aus."),
]


@pytest.fixture
def recipe_file(tmp_path, tiny_model_dir) -> Path:
    rows = [{"id": f"qa{i}", "source": "test", "url": "", "lang": lang, "question": q, "answer": a}
            for i, (lang, q, a) in enumerate(QA)]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + ['{"id": "broken", "lang": "en"}']
    (tmp_path / "qa.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mcqa = [{"id": f"m{i}", "source": "test", "lang": lang, "question": q, "choices": ["a", "b", "c", "d"],
             "answer": i % 4, "subject": subject}
            for i, (lang, subject, q) in enumerate([("en", "anatomy", "Which bone?"), ("en", "pharmacology", "Which drug?"),
                                                    ("fa", "anatomy", "کدام استخوان؟")])]
    (tmp_path / "mcqa.jsonl").write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in mcqa) + "\n")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"""
name: tiny
languages: [en, fa]
model: {tiny_model_dir}
data:
  qa: [{{path: qa.jsonl}}]
  system_prompt: {{en: You are a doctor.}}
  dev_fraction: 0.2
train:
  stage2: {{max_steps: 3, batch_size: 2, max_length: 128, learning_rate: 1.0e-3}}
evaluate:
  benchmarks: [{{name: tiny-mcqa, path: mcqa.jsonl}}]
report: {{}}
chat: {{max_new_tokens: 8, temperature: 0}}
""", encoding="utf-8")
    return recipe


def test_run_then_rerun_skips(recipe_file, tmp_path):
    runner = CliRunner()
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["run", str(recipe_file), "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    run = runs / "tiny"
    manifest = json.loads((run / "manifest.json").read_text())
    assert [s for s in manifest["stages"]] == ["data", "train", "evaluate", "report"]
    assert all(s["status"] == "done" and s["output_hash"] for s in manifest["stages"].values())

    stats = json.loads((run / "data/stats.json").read_text())
    assert stats["train"] + stats["dev"] == 5 and stats["rejected"] == 1
    assert stats["skipped_other_language"] == {"de": 1}
    rejected = [json.loads(line) for line in (run / "data/rejected.jsonl").read_text().splitlines()]
    assert rejected[0]["id"] == "broken"
    assert "row 7: question: missing question, answer (columns: id, lang)" in rejected[0]["reason"]

    log = [json.loads(line) for line in (run / "train/log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3]
    assert (run / "train/adapter/adapter_config.json").is_file()

    results = json.loads((run / "evaluate/tiny-mcqa/results.json").read_text())
    assert set(results["models"]) == {"base", "trained"} and results["n"] == 3
    predictions = (run / "evaluate/tiny-mcqa/predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 6

    html = (run / "report/index.html").read_text()
    assert 'src="train-loss.png"' in html and "<th>base</th><th>trained</th>" in html and "subject: anatomy" in html
    assert "McNemar p =" in html and "bootstrap 95 % interval" in html
    assert (run / "report/train-loss.png").stat().st_size > 1000 and (run / "report/report.md").is_file()

    again = runner.invoke(app, ["run", str(recipe_file), "--runs-dir", str(runs)])
    assert again.exit_code == 0
    assert again.output.count(", skipped") == 4 and again.output.count("skipped (unchanged)") == 4

    forced = runner.invoke(app, ["run", str(recipe_file), "--runs-dir", str(runs), "--force", "report"])
    assert forced.exit_code == 0 and forced.output.count(", skipped") == 3


def test_chat_keeps_history_across_turns(recipe_file, tmp_path):
    runner = CliRunner()
    runs = tmp_path / "runs"
    assert runner.invoke(app, ["run", str(recipe_file), "--runs-dir", str(runs)]).exit_code == 0

    from medadapt.llm.streaming import Generator
    from medadapt.models.loading import load_for_inference
    from medadapt.serve.chat import ChatSession, chat_target

    spec = chat_target(str(runs / "tiny"))
    assert spec.model == str(runs / "tiny/train/merged") and spec.adapter is None  # the train stage merges
    assert spec.settings.max_new_tokens == 8
    session = ChatSession(Generator(*load_for_inference(spec.model, spec.adapter)), spec.settings)
    streamed: list[str] = []
    first = session.reply("I have a fever.", on_token=streamed.append)
    assert "".join(streamed).strip() == first
    session.reply("And a headache?", on_token=lambda _: None)
    assert [m["role"] for m in session.history] == ["user", "assistant", "user", "assistant"]
    assert session.history[0]["content"] == "I have a fever."
    # the second prompt contained the first exchange
    session.history.append({"role": "user", "content": "x"})
    prompt = session.generator.tokenizer.decode(session._prompt_ids())
    assert "I have a fever." in prompt and "And a headache?" in prompt

    chat = runner.invoke(app, ["chat", str(runs / "tiny")], input="Hello\n/reset\nAgain\n/exit\n")
    assert chat.exit_code == 0, chat.output
    assert chat.output.count("assistant>") == 2 and "history cleared" in chat.output


def test_history_is_trimmed_to_the_context_window(tiny_model_dir):
    from medadapt.llm.streaming import Generator
    from medadapt.models.loading import load_for_inference
    from medadapt.recipe.schema import ChatSection
    from medadapt.serve.chat import ChatSession

    session = ChatSession(Generator(*load_for_inference(str(tiny_model_dir))), ChatSection(max_new_tokens=4, temperature=0))
    session.context_window = 120
    trimmed: list[int] = []
    for turn in range(6):
        session.reply(f"Question number {turn} about fever and headache?", lambda _: None, on_trim=trimmed.append)
    assert trimmed and len(session._prompt_ids()) <= 120 + 8
    assert session.history[-2]["content"] == "Question number 5 about fever and headache?"


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlanguages: [en]\nmodel: m\nevaluate: {benchmarks: [{name: b, path: nope.jsonl}]}\n")
    cli = [sys.executable, "-m", "medadapt.cli", "recipe", "validate"]
    done = subprocess.run([*cli, str(bad)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {bad}: evaluate.benchmarks.0.path: file not found: nope.jsonl"
    assert "Traceback" not in done.stderr
    debug = subprocess.run([sys.executable, "-m", "medadapt.cli", "--debug", "recipe", "validate", str(bad)],
                           capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr

    missing_model = subprocess.run([sys.executable, "-m", "medadapt.cli", "chat", "no-such-alias"],
                                   capture_output=True, text=True)
    assert missing_model.returncode == 2
    assert missing_model.stderr.count("\n") == 1 and "not a known alias" in missing_model.stderr
