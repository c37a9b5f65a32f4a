"""Fingerprints on the real stages (data → train → evaluate → report, tiny model): a field a stage read
re-runs it and what reads its output; a field it did not read leaves it skipped; `--plan` says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.recipe import load_recipe
from medadapt.runs import plan_stages
from medadapt.stages import stages_for

ROWS = [("en", "I have a fever and a headache. What should I do?", "Drink water, rest, and see a doctor."),
        ("fa", "سردرد دارم، چه کنم؟", "آب بنوشید و استراحت کنید."),
        ("en", "Is aspirin safe for children?", "No. Ask a doctor first."),
        ("en", "How much water should I drink?", "About two litres a day."),
        ("fa", "تب کودکم بالاست", "فوراً به پزشک مراجعه کنید.")]


@pytest.fixture(scope="module")
def road(tmp_path_factory, tiny_model_dir) -> tuple[Path, Path, dict]:
    """One real run of the tiny road; tests plan against edited copies of its recipe."""
    tmp = tmp_path_factory.mktemp("fingerprints")
    qa = [{"id": f"q{i}", "source": "t", "url": "", "lang": lang, "question": q, "answer": a}
          for i, (lang, q, a) in enumerate(ROWS)]
    (tmp / "qa.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in qa), encoding="utf-8")
    mcqa = [{"id": f"m{i}", "source": "t", "lang": "en", "question": f"Question {i}?", "choices": ["a", "b"],
             "answer": i % 2} for i in range(3)]
    (tmp / "mcqa.jsonl").write_text("".join(json.dumps(m) + "\n" for m in mcqa), encoding="utf-8")
    config = {"name": "fp", "languages": ["en", "fa"], "model": str(tiny_model_dir),
              "data": {"sources": [{"path": "qa.jsonl", "format": "qa"}], "system_prompt": {"en": "Be careful."}},
              "train": {"stage2": {"max_steps": 1, "batch_size": 2, "max_length": 96}},
              "evaluate": {"benchmarks": [{"name": "b", "path": "mcqa.jsonl"}]},
              "report": {}, "chat": {"max_new_tokens": 8}}
    recipe = tmp / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(recipe), "--runs-dir", str(tmp / "runs")])
    assert result.exit_code == 0, result.output
    return tmp, recipe, config


def plan(road, **edits) -> dict[str, tuple[str, list[str]]]:
    tmp, _, config = road
    edited = {**config, **edits}
    path = tmp / "edited.yaml"
    path.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    recipe = load_recipe(path)
    return {p.name: (p.action, p.reasons) for p in plan_stages(stages_for(recipe), recipe, path, tmp / "runs")}


def test_unchanged_recipe_skips_every_stage(road):
    assert {name: action for name, (action, _) in plan(road).items()} == dict.fromkeys(
        ["data", "train", "evaluate", "report"], "skip")


def test_a_field_no_stage_read_skips_every_stage_but_the_report(road):
    # nothing on this road samples with the chat temperature (there is no free-form evaluation); the report
    # prints the recipe's hash, so it depends on the whole recipe
    planned = plan(road, chat={"max_new_tokens": 8, "temperature": 0.2})
    assert {name: action for name, (action, _) in planned.items()} == {
        "data": "skip", "train": "skip", "evaluate": "skip", "report": "run"}
    assert planned["report"][1] == ["recipe changed: (whole recipe)"]


def test_languages_rerun_data_and_downstream(road):
    planned = plan(road, languages=["en"])
    assert planned["data"] == ("run", ["recipe changed: languages"])
    assert planned["train"][0] in ("run", "run if upstream output changes")
    assert planned["evaluate"][0] != "skip" and planned["report"][0] != "skip"


def test_chat_template_reruns_the_stages_that_tokenise_with_it(road):
    planned = plan(road, chat_template="chatml")
    assert planned["train"][0] == "run" and "chat_template" in " ".join(planned["train"][1])
    assert planned["data"][0] == "skip"  # no cutoff_len: the data stage never tokenises


def test_a_train_hyperparameter_reruns_train_not_data(road):
    _, _, config = road
    planned = plan(road, train={"stage2": {**config["train"]["stage2"], "learning_rate": 1e-3}})
    assert planned["data"][0] == "skip"
    assert planned["train"] == ("run", ["recipe changed: train.stage2.learning_rate"])
    # evaluate's contamination check reads what train trains on (a method of the train section: all of it)
    assert planned["evaluate"][0] == "run"


def test_a_data_field_reruns_data_and_marks_what_reads_its_output(road):
    _, _, config = road
    planned = plan(road, data={**config["data"], "dev_fraction": 0.5})
    assert planned["data"] == ("run", ["recipe changed: data.dev_fraction"])
    assert planned["train"] == ("run if upstream output changes", [])


def test_a_real_rerun_after_an_edit_runs_what_the_plan_said(road):
    tmp, recipe, config = road
    edited = {**config, "data": {**config["data"], "system_prompt": {"en": "Be brief."}}}
    recipe.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    shown = CliRunner().invoke(app, ["run", str(recipe), "--runs-dir", str(tmp / "runs"), "--plan"])
    assert shown.exit_code == 0 and "plan for fp" in shown.output and "recipe changed:" in shown.output
    before = json.loads((tmp / "runs/fp/manifest.json").read_text())["stages"]
    assert CliRunner().invoke(app, ["run", str(recipe), "--runs-dir", str(tmp / "runs")]).exit_code == 0
    after = json.loads((tmp / "runs/fp/manifest.json").read_text())["stages"]
    assert after["data"]["ended_at"] != before["data"]["ended_at"] or after["data"]["fingerprint"] != before[
        "data"]["fingerprint"]
    assert after["data"]["reads"] and "languages" in after["data"]["reads"]


def test_a_stage_command_never_runs_the_stages_before_it(road, tiny_model_dir):
    tmp, _, config = road
    fresh = tmp / "fresh.yaml"
    fresh.write_text(yaml.safe_dump({**config, "name": "fresh"}, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["train", str(fresh), "--runs-dir", str(tmp / "runs")])
    assert result.exit_code != 0 and "missing its inputs" in str(result.exception)
    assert "medadapt data" in str(result.exception)
    assert not (tmp / "runs/fresh/data").exists()
