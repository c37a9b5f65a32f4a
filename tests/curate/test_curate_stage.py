"""The curate stage end to end: files written, every removal accounted for, stats, report section, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from curate_helpers import make_project
from rich.console import Console

from medadapt.curate.stage import CurateStage
from medadapt.records.jsonl import iter_jsonl
from medadapt.errors import RecipeError
from medadapt.recipe import load_recipe
from medadapt.runs import RunDir, run_stages


def _run(recipe: Path, runs: Path):
    parsed = load_recipe(recipe)
    return run_stages([CurateStage()], parsed, recipe, runs, console=Console(quiet=True))


def test_stage_outputs_and_accounting(tmp_path):
    recipe = make_project(tmp_path)
    result = _run(recipe, tmp_path / "runs")
    out = result.run.stage_dir("curate")
    train, test = list(iter_jsonl(out / "qa" / "train.jsonl")), list(iter_jsonl(out / "qa" / "test.jsonl"))
    articles = [r for split in sorted((out / "article").glob("*.jsonl")) for r in iter_jsonl(split)]
    rejected = list(iter_jsonl(out / "rejected.jsonl"))
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))

    kept_ids = {r["id"] for r in train + test + articles}
    rejected_by_id = {r["id"]: r for r in rejected}
    assert len(kept_ids) + len(rejected) == stats["read"] == 48  # every row is somewhere
    assert articles and stats["kept"] == len(kept_ids)
    assert {"dup", "short", "leak", "a2", "broken"} <= set(rejected_by_id)
    assert rejected_by_id["dup"]["step"] == "exact_dedup" and rejected_by_id["dup"]["cluster_id"] == "q0"
    assert rejected_by_id["leak"]["step"] == "decontaminate"
    assert rejected_by_id["short"]["step"] == "answer_length"
    assert rejected_by_id["broken"]["step"] == "read" and "row 45" in rejected_by_id["broken"]["reason"]
    assert any(r["step"] == "read" and r["record"] == "not json" for r in rejected)

    pii = next(r for r in train + test if r["id"] == "pii")
    assert "[PHONE]" in pii["answer"] and "دکتر [NAME]" in pii["answer"] and "۵۰۰" not in pii["answer"]
    assert "500 میلی\u200cگرم" in pii["answer"] and "120/80" in pii["answer"]  # doses and pressures kept
    assert "می\u200cتواند" in train[0]["answer"]  # ZWNJ repaired and kept
    assert train[0]["fetched_at"] == "2024-01-01"  # extra fields carried through

    steps = {s["step"]: s for s in stats["steps"]}
    assert steps["read"]["removed"] == 2 and steps["exact_dedup"]["by_rule"] == {"exact_duplicate": 1}
    for before, after in zip(stats["steps"], stats["steps"][1:]):
        assert before["out"] == after["in"]
    assert stats["pii"]["phone"] == 1 and stats["pii"]["name"] == 1
    assert stats["splits"]["qa"] == {"train": len(train), "test": len(test)} and len(test) > 0
    assert {r["source"] for r in stats["by_source_and_language"]} == {"site0", "site1", "site2", "mag"}
    assert all(len(v) <= 5 for v in stats["examples"].values())
    assert sorted(p.name for p in out.glob("*.png")) == ["length-article.png", "length-qa.png"]


def test_report_section_renders(tmp_path):
    from medadapt.report.collect import collect
    from medadapt.report.render import render_report, section_templates

    result = _run(make_project(tmp_path), tmp_path / "runs")
    assert "curate" in section_templates()
    context = collect(result.run, section_templates())
    context.update(title="t", recipe={"model": "m", "languages": ["fa"], "seed": 0})
    out = tmp_path / "report"
    out.mkdir()
    render_report(context, out, {"curate": result.run.stage_dir("curate")})
    html, md = (out / "index.html").read_text(encoding="utf-8"), (out / "report.md").read_text(encoding="utf-8")
    assert "What each step removed" in html and "exact_duplicate: 1" in html
    assert "| exact_dedup |" in md and "curate-length-qa.png" in md
    assert (out / "curate-length-qa.png").is_file()


def test_second_run_is_skipped_and_checkpoint_removed(tmp_path):
    recipe = make_project(tmp_path)
    first = _run(recipe, tmp_path / "runs")
    assert not (first.run.root / ".curate.checkpoint").exists()
    assert _run(recipe, tmp_path / "runs").skipped == ["curate"]


def test_recipe_errors_are_one_line_each(tmp_path):
    recipe = make_project(tmp_path)
    recipe.write_text(recipe.read_text().replace("{step: pii}", "{step: pii, colour: red}")
                      .replace("{step: length, min_words: 20}", "{step: lenght}"), encoding="utf-8")
    with pytest.raises(RecipeError) as error:
        load_recipe(recipe)
    message = error.value.one_line()
    assert "lenght" in message and "colour" in message


def test_preset_supplies_steps(tmp_path):
    recipe = make_project(tmp_path)
    text = recipe.read_text()
    recipe.write_text(text[: text.index("  steps:")] + "  preset: gaokerena_qa\n", encoding="utf-8")
    parsed = load_recipe(recipe)
    assert [s.step for s in parsed.curate.steps] == ["normalize", "exact_dedup", "answer_length"]
    recipe.write_text(text.replace("  steps:", "  preset: nope\n  steps:"), encoding="utf-8")
    with pytest.raises(RecipeError, match="preset"):
        load_recipe(recipe)


def test_cli_command(tmp_path):
    recipe = make_project(tmp_path)
    done = subprocess.run([sys.executable, "-m", "medadapt.cli", "curate", str(recipe), "--runs-dir", str(tmp_path / "runs")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "what each step removed" in done.stdout
    assert (tmp_path / "runs" / "curated" / "curate" / "qa" / "train.jsonl").is_file()


def test_decontaminates_against_the_recipes_benchmarks(tmp_path):
    recipe = make_project(tmp_path)
    text = recipe.read_text().replace("{step: decontaminate, extra: [exam.jsonl]}", "{step: decontaminate}")
    recipe.write_text(text + "evaluate:\n  benchmarks:\n    - {name: my-exam, path: exam.jsonl}\n", encoding="utf-8")
    stage = CurateStage()
    parsed = load_recipe(recipe)
    assert "eval.my-exam" in stage.inputs(parsed, tmp_path, RunDir(tmp_path / "r"))
    result = _run(recipe, tmp_path / "runs")
    rejected = {r["id"]: r for r in iter_jsonl(result.run.stage_dir("curate") / "rejected.jsonl")}
    assert rejected["leak"]["step"] == "decontaminate" and "my-exam item x1" in rejected["leak"]["reason"]


def test_missing_input_files_reported_by_the_loader(tmp_path):
    recipe = make_project(tmp_path)
    (tmp_path / "articles.jsonl").unlink()
    (tmp_path / "exam.jsonl").unlink()
    with pytest.raises(RecipeError) as error:
        load_recipe(recipe)
    message = error.value.one_line()
    assert "curate.inputs.1.path: file not found: articles.jsonl" in message
    assert "curate.steps.9.extra.0: file not found: exam.jsonl" in message
