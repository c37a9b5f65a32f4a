"""A benchmark with nothing to score (an empty file, every row rejected, no question in the recipe's languages,
every question a few-shot example or found in the training data) is one line naming the file and why, exit
code 2, both in ``medadapt eval mcqa`` and in the evaluate stage: never a ZeroDivisionError traceback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from medadapt.errors import DataError
from medadapt.evaluate.kinds import Contestant
from medadapt.evaluate.mcqa.benchmark import BenchmarkSpec, prepare_benchmark
from medadapt.evaluate.mcqa.config import DecontaminationConfig
from medadapt.evaluate.mcqa.run import McqaJob, run_mcqa

QUESTION = "Which nerve supplies the diaphragm in adults and children alike, in every case number {}?"


def medadapt(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medadapt.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def assert_one_line(done: subprocess.CompletedProcess, *expected: str) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for text in expected:
        assert text in lines[0]
    return lines[0]


def mmlu_fa_sheet(path: Path, source: str) -> Path:
    """A Gaokerena MMLU-fa CSV whose Source column no pattern of the mapping accepts."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "option1", "option2", "option3", "option4", "answer", "Source"])
        for i in range(3):
            writer.writerow([f"سوال {i}؟", "الف", "ب", "ج", "د", "1", source])
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def mcqa_rows(lang: str = "en", n: int = 2) -> list[dict]:
    return [{"id": f"q{i}", "source": "t", "lang": lang, "subject": "anatomy", "question": QUESTION.format(i),
             "choices": ["a", "b", "c", "d"], "answer": 0} for i in range(n)]


def test_eval_mcqa_on_a_fully_rejected_file_is_one_line(tmp_path):
    sheet = mmlu_fa_sheet(tmp_path / "mmlu_anatomy_fa.csv", "not-an-mmlu-source")
    done = medadapt("eval", "mcqa", "--model", "unused", "--benchmark", sheet, "--format", "gaokerena-mmlu-fa")
    assert_one_line(done, str(sheet), "no usable questions (3 rows rejected; first:", "subject")


def test_eval_mcqa_on_an_empty_file_is_one_line(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert_one_line(medadapt("eval", "mcqa", "--model", "unused", "--benchmark", empty), f"{empty}: no usable questions")


def test_the_stage_stops_on_a_fully_rejected_benchmark_with_one_line(tmp_path):
    sheet = mmlu_fa_sheet(tmp_path / "mmlu_fa.csv", "anatomy")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"""
name: empty-bench
languages: [fa]
model: unused
evaluate:
  benchmarks: [{{name: mmlu-fa, path: mmlu_fa.csv, format: gaokerena-mmlu-fa}}]
""", encoding="utf-8")
    done = medadapt("run", recipe, "--runs-dir", tmp_path / "runs")
    assert_one_line(done, str(sheet), "no usable questions (3 rows rejected; first:")


def test_no_question_in_the_recipe_languages(tmp_path):
    bench = write_jsonl(tmp_path / "b.jsonl", mcqa_rows("ar"))
    with pytest.raises(DataError, match=r"no questions in the recipe's languages \(en, fa\); the file has ar"):
        prepare_benchmark(BenchmarkSpec("b", bench, languages=("en", "fa")))


def test_every_question_a_fewshot_example(tmp_path):
    bench = write_jsonl(tmp_path / "b.jsonl", mcqa_rows(n=1))
    with pytest.raises(DataError, match="every question is a few-shot example"):
        prepare_benchmark(BenchmarkSpec("b", bench, num_fewshot=1))


def test_every_question_found_in_the_training_data(tmp_path):
    bench = write_jsonl(tmp_path / "b.jsonl", mcqa_rows())
    trained = write_jsonl(tmp_path / "train.jsonl", [{"id": f"t{i}", "text": "Forum: " + QUESTION.format(i)} for i in range(2)])
    job = McqaJob(model="unused", benchmarks=[BenchmarkSpec("b", bench)],
                  contestants=[Contestant("model", "never-loaded")], translator=lambda pipeline: None,
                  decontamination=DecontaminationConfig(action="exclude"), training_files=[trained])
    with pytest.raises(DataError, match="every question was found in the training data") as caught:
        run_mcqa(job, Console(quiet=True))
    assert caught.value.file == str(bench)
