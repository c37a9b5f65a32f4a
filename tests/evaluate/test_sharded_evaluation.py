"""Sharded evaluation for real, on the CPU (gloo) with the tiny model: an evaluate-only recipe run by
``accelerate launch --multi_gpu --num_processes 2 medadapt run``, and ``medadapt eval mcqa`` launched as two
machines of one process each (``--num_machines 2 --machine_rank R``), against the same runs in one process.

Each process scores a share of the batches one process makes (``runs.processes.shard``) and the main one
writes, so multiple choice (letters with a few-shot prefix, option texts, generated answers to multi-answer
questions, generative style) gives the one process's predictions (every field; the logged log-likelihoods
within 1e-3 absolute) and the same results.json byte for byte. A pass's numbers are the same computation, but
its matrix products may split their sums differently with another thread count (a launch gives each process
one thread): that moves a log-likelihood at ~1e-7 relative, which can flip the 4th decimal it is rounded to
(measured: -97.0381 against -97.038). Perplexity's figures are summed from the same per-pass sums in the same
order; the tolerance, 1e-5 relative, is 100x that noise, while a pass scored twice or lost (a sharding fault)
moves a document's log-likelihood by tens of percent. Only the main process writes
(every JSON/JSONL write and the manifest recorded per rank by tests/train/audited_medadapt.py).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app

AUDITED = Path(__file__).parents[1] / "train" / "audited_medadapt.py"
ACCELERATE = Path(sys.executable).with_name("accelerate")
TOLERANCE = 1e-5
SUBJECTS = ("anatomy", "pharmacology")
CHOICES = ["the heart", "the liver and the kidneys", "a nerve", "the small bones of the inner ear"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _questions(folder: Path) -> Path:
    """22 questions in two subjects, of different lengths (so batches differ), two with several answers."""
    rows = []
    for i in range(22):
        subject = SUBJECTS[i % 2]
        row = {"id": f"q{i}", "source": "t", "lang": "en", "subject": subject,
               "question": f"In {subject}, question {i}: which organ {'is named ' * (i % 5)}here?",
               "choices": CHOICES, "answer": i % 4}
        if i in (5, 12):
            row |= {"answer": 0, "answers": [0, 2]}
        rows.append(row)
    return _jsonl(folder / "mcqa.jsonl", rows)


def _recipe(folder: Path, model_dir: Path) -> Path:
    _questions(folder)
    _jsonl(folder / "qa.jsonl", [{"id": f"a{i}", "source": "forum", "lang": "en", "question": f"Is fever {i} bad?",
                                  "answer": "Rest and drink water. " * (1 + i % 4)} for i in range(9)])
    _jsonl(folder / "text.jsonl", [{"id": f"t{i}", "source": "site", "lang": "en",
                                    "text": "The patient has a fever and a headache. " * (1 + 3 * i)} for i in range(7)])
    benchmarks = [{"name": "letters", "path": "mcqa.jsonl", "num_fewshot": 1},
                  {"name": "cloze", "path": "mcqa.jsonl", "style": "cloze"},
                  {"name": "generated", "path": "mcqa.jsonl", "style": "generate", "limit": 9}]
    recipe = {"name": "sharded", "languages": ["en"], "model": str(model_dir),
              "evaluate": {"benchmarks": benchmarks, "batch_size": 3,
                           "perplexity": {"sets": [{"name": "answers", "path": "qa.jsonl", "format": "qa"},
                                                   {"name": "corpus", "path": "text.jsonl"}],
                                          "max_length": 96, "batch_size": 2}}}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


def _launched(args: list[str], audit: Path, machines: int = 1) -> None:
    """``accelerate launch`` of the recording medadapt script in 2 processes, on ``machines`` 'machines' of
    this host (one launch each)."""
    port = str(_free_port())
    per_machine = ["--multi_gpu", "--num_processes", "2", "--main_process_port", port]
    if machines > 1:
        per_machine += ["--num_machines", str(machines), "--main_process_ip", "127.0.0.1"]
    launches = [subprocess.Popen([str(ACCELERATE), "launch", *per_machine,
                                  *(["--machine_rank", str(rank)] if machines > 1 else []), str(AUDITED), *args],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 env={**os.environ, "MEDADAPT_AUDIT": str(audit)})
                for rank in range(machines)]
    for launch in launches:
        output, _ = launch.communicate(timeout=300)
        assert launch.returncode == 0, output[-4000:]


@pytest.fixture(scope="module")
def stage_runs(tmp_path_factory, tiny_model_dir):
    """(run folder of the 2-process run, its audit lines, run folder of the 1-process run)."""
    folder = tmp_path_factory.mktemp("sharded")
    recipe = _recipe(folder, tiny_model_dir)
    audit = folder / "audit.txt"
    _launched(["run", str(recipe), "--runs-dir", str(folder / "two")], audit)
    one = CliRunner().invoke(app, ["run", str(recipe), "--runs-dir", str(folder / "one")])
    assert one.exit_code == 0, one.output
    return folder / "two" / "sharded", audit.read_text().splitlines(), folder / "one" / "sharded"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _same_predictions(two: Path, one: Path) -> None:
    rows = [[json.loads(line) for line in _text(path).splitlines()] for path in (two, one)]
    assert len(rows[0]) == len(rows[1]) > 0
    for a, b in zip(*rows):
        assert {k: v for k, v in a.items() if k != "loglik"} == {k: v for k, v in b.items() if k != "loglik"}
        assert a.get("loglik", []) == pytest.approx(b.get("loglik", []), abs=1e-3)


def test_two_processes_give_the_predictions_and_results_of_one(stage_runs):
    two, _, one = stage_runs
    for name in ("letters", "cloze", "generated"):
        _same_predictions(two / "evaluate" / name / "predictions.jsonl", one / "evaluate" / name / "predictions.jsonl")
        assert _text(two / "evaluate" / name / "results.json") == _text(one / "evaluate" / name / "results.json")
    letters = [json.loads(line) for line in _text(one / "evaluate/letters/predictions.jsonl").splitlines()]  # 2 are few-shot examples
    assert len(letters) == 20 and sum(bool(p.get("multi_answer")) for p in letters) == 2


def test_two_processes_give_the_perplexity_of_one(stage_runs):
    two, _, one = stage_runs
    for name in ("answers", "corpus"):
        rows = {path: [json.loads(line) for line in _text(path / "evaluate/perplexity" / name / "scores.jsonl").splitlines()]
                for path in (two, one)}
        assert [(r["id"], r["tokens"]) for r in rows[two]] == [(r["id"], r["tokens"]) for r in rows[one]]
        assert len(rows[one]) >= 5  # (the longest conversations are over max_length: rejected in both)
        for a, b in zip(rows[two], rows[one]):
            assert a["loglikelihood"] == pytest.approx(b["loglikelihood"], rel=TOLERANCE)
        figures = [json.loads(_text(path / "evaluate/perplexity" / name / "results.json"))["models"]["base"]
                   for path in (two, one)]
        assert figures[0]["bits_per_byte"] == pytest.approx(figures[1]["bits_per_byte"], rel=TOLERANCE)
        assert figures[0]["tokens"] == figures[1]["tokens"] > 50


def test_only_the_main_process_writes_and_the_manifest_says_done(stage_runs):
    two, audit, _ = stage_runs
    assert {line.split(" ", 1)[0] for line in audit} == {"0"}, [line for line in audit if not line.startswith("0 ")][:5]
    assert sum(line.endswith(".evaluate.partial/letters/predictions.jsonl") for line in audit) == 1
    manifest = json.loads(_text(two / "manifest.json"))
    assert sorted(manifest["stages"]) == ["evaluate", "report"]
    assert sum("Manifest.save" in line for line in audit) == 4  # each stage running, then done
    assert manifest["stages"]["evaluate"]["status"] == "done" and (two / "evaluate/report.json").is_file()


def test_eval_mcqa_on_two_machines_gives_the_file_of_one(tmp_path, tiny_model_dir):
    benchmark = _questions(tmp_path)
    args = ["eval", "mcqa", "--model", str(tiny_model_dir), "--benchmark", str(benchmark), "--num-fewshot", "1",
            "--batch-size", "3"]
    audit = tmp_path / "audit.txt"
    _launched([*args, "--out", str(tmp_path / "two")], audit, machines=2)
    one = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "one")])
    assert one.exit_code == 0, one.output
    _same_predictions(tmp_path / "two" / "predictions.jsonl", tmp_path / "one" / "predictions.jsonl")
    assert _text(tmp_path / "two" / "results.json") == _text(tmp_path / "one" / "results.json")
    assert {line.split(" ", 1)[0] for line in _text(audit).splitlines()} == {"0"}
