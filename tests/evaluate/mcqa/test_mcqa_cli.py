"""`medadapt eval mcqa` and `medadapt eval compare` on a tiny model, through the real CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from medadapt.cli.main import app

ROWS = [
    {"id": f"q{i}", "source": "t", "lang": "en", "subject": "anatomy" if i % 2 else "pharmacology",
     "question": f"Question {i} about the body?", "choices": ["bone", "nerve", "muscle", "skin"], "answer": i % 4}
    for i in range(8)
] + [{"id": "bad", "lang": "en"}]


def write_benchmark(tmp_path):
    path = tmp_path / "bench.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return path


def test_eval_mcqa_fewshot_generate_and_compare(tmp_path, tiny_model_dir):
    runner = CliRunner()
    bench = write_benchmark(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["eval", "mcqa", "--model", str(tiny_model_dir), "--benchmark", str(bench),
                                 "--num-fewshot", "1", "--pass-mark", "0.36", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 rows rejected" in result.output and "pass mark 36%: " in result.output
    saved = json.loads((out / "results.json").read_text())
    assert saved["n"] == 6 and saved["num_fewshot"] == 1 and saved["fewshot_ids"] == ["q0", "q1"]
    metrics = saved["models"]["model"]
    assert set(metrics) >= {"acc", "stderr", "ci95", "by_subject", "passed"}
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == [f"q{i}" for i in range(2, 8)]

    gen_out = tmp_path / "gen"
    result = runner.invoke(app, ["eval", "mcqa", "--model", str(tiny_model_dir), "--benchmark", str(bench),
                                 "--style", "generate", "--out", str(gen_out)])
    assert result.exit_code == 0, result.output
    generated = [json.loads(line) for line in (gen_out / "predictions.jsonl").read_text().splitlines()]
    assert all("response" in p and "parsed" in p for p in generated)
    assert json.loads((gen_out / "results.json").read_text())["models"]["model"]["unparsed"] == sum(
        not p["parsed"] for p in generated)

    compared = runner.invoke(app, ["eval", "compare", str(out), str(gen_out)])
    assert compared.exit_code == 0, compared.output
    assert "McNemar" in compared.output and "│ bench" in compared.output


def test_named_benchmark_reads_its_mapping_and_pass_mark(tiny_model_dir, tmp_path):
    from shared_data import SHARED

    if not (SHARED / "data/gaokerena/exams/basic_sciences_1400_1403.csv").is_file():
        import pytest

        pytest.skip("shared data not present")
    runner = CliRunner()
    out = tmp_path / "exam"
    result = runner.invoke(app, ["eval", "mcqa", "--model", str(tiny_model_dir), "--benchmark",
                                 "gaokerena-basic-sciences-exams", "--data-dir", str(SHARED / "data"),
                                 "--limit", "12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "pass mark 36%: " in result.output
    saved = json.loads((out / "results.json").read_text())
    assert saved["n"] == 12 and saved["pass_mark"] == 0.36 and saved["benchmark"] == "gaokerena-basic-sciences-exams"

    missing = runner.invoke(app, ["eval", "mcqa", "--model", str(tiny_model_dir), "--benchmark",
                                  "gaokerena-basic-sciences-exams", "--data-dir", str(tmp_path)])
    assert missing.exit_code != 0 and "file not found" in str(missing.exception)
