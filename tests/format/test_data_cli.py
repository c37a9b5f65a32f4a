"""`medadapt data inspect|convert|formats` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.errors import DataError

runner = CliRunner()


def test_convert_reports_each_quarantined_row_and_converts_the_rest(tmp_path):
    csv = tmp_path / "mf3qa.csv"
    csv.write_text("Question,Answer\nتب دارم,استراحت کنید\n,بدون پرسش\nسرفه,\n", encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    result = runner.invoke(app, ["data", "convert", str(csv), str(out), "--from", "gaokerena-mf3qa", "--to", "chat",
                                 "--max-rejected-fraction", "0.7"])
    assert result.exit_code == 0, result.output
    assert "3 rows read, 1 written" in result.output
    assert f"{csv}: lost 2 of 3 rows (67%): " in result.output  # on the console, not only in the file
    assert f"{csv}: row 3: question: String should have at least 1 character" in result.output
    assert f"{csv}: row 4: answer: String should have at least 1 character" in result.output
    quarantine = [json.loads(line) for line in (tmp_path / "qa.rejected.jsonl").read_text().splitlines()]
    assert [q["record"]["Answer"] for q in quarantine] == ["بدون پرسش", ""]
    chat = json.loads(out.read_text())
    assert chat["lang"] == "fa" and [m["role"] for m in chat["messages"]] == ["user", "assistant"]


def test_inspect_shows_counts_lengths_and_examples(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps({"id": str(i), "source": "s", "lang": "en", "question": f"Which {i}?",
                                          "choices": ["a", "b"], "answer": i % 2, "subject": "anatomy"})
                              for i in range(4)) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["data", "inspect", str(path), "--examples", "1"])
    assert result.exit_code == 0, result.output
    assert "mcqa" in result.output and '{"en": 4}' in result.output and "p50" in result.output
    assert "[assistant] Answer: A. a" in result.output and "Which 0?" in result.output and "Which 1?" not in result.output


def test_inspect_with_the_models_template_counts_tokens(tmp_path, tiny_model_dir):
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"id": "1", "source": "s", "lang": "en", "question": "Fever?", "answer": "Rest."}) + "\n")
    result = runner.invoke(app, ["data", "inspect", str(path), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "tokens" in result.output and "<|im_start|>assistant" in result.output


def test_bad_target_and_formats_listing(tmp_path):
    result = runner.invoke(app, ["data", "convert", "x.csv", "y.json", "--from", "alpaca", "--to", "excel"])
    assert isinstance(result.exception, DataError) and "--to excel: unknown target" in str(result.exception)
    listing = runner.invoke(app, ["data", "formats"])
    assert listing.exit_code == 0 and "gaokerena-mmlu-fa" in listing.output and "sharegpt" in listing.output
