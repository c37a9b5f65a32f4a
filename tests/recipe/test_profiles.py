"""Recipe profiles (``--profile``) and the data folder (``data://``, ``--data-dir``, ``MEDADAPT_DATA``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.errors import RecipeError
from medadapt.recipe import load_recipe, load_run_recipe
from medadapt.recipe.profiles import apply_profile, overlay
from medadapt.resources import DATA_ENV, resolve_path

RECIPE = """
name: paper
languages: [en]
model: smollm2-135m
seed: 1
data:
  sources:
    - path: data://kqa/qa.jsonl
      format: qa
  dev_fraction: 0.2
  max_examples: 1000
train:
  stage2: {max_steps: 500, lora: {r: 64, alpha: 128}}
profiles:
  smoke:
    data: {max_examples: 8}
    train: {stage2: {max_steps: 2, lora: {r: 4}}}
  evaluation-only:
    name: paper-eval
    train: null
"""


@pytest.fixture
def recipe_file(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    data = tmp_path / "datasets" / "kqa"
    data.mkdir(parents=True)
    (data / "qa.jsonl").write_text(json.dumps({"id": "1", "question": "Q?", "answer": "A.", "lang": "en"}) + "\n")
    path = tmp_path / "paper.yaml"
    path.write_text(RECIPE + "data_dir: datasets\n", encoding="utf-8")
    return path


def test_overlay_merges_mappings_and_replaces_everything_else():
    body = {"a": {"b": 1, "c": [1, 2]}, "d": 5, "e": {"f": 1}}
    assert overlay(body, {"a": {"c": [3]}, "d": None, "g": 2}) == {"a": {"b": 1, "c": [3]}, "d": None,
                                                                   "e": {"f": 1}, "g": 2}
    assert body == {"a": {"b": 1, "c": [1, 2]}, "d": 5, "e": {"f": 1}}  # the body is not changed


def test_body_runs_by_default_and_a_profile_is_laid_over_it(recipe_file):
    full = load_recipe(recipe_file)
    assert (full.name, full.profile, full.train.stage2.max_steps, full.train.stage2.lora.r) == ("paper", None, 500, 64)
    smoke = load_recipe(recipe_file, "smoke")
    assert smoke.name == "paper-smoke" and smoke.profile == "smoke" and smoke.profiles == {}
    assert (smoke.train.stage2.max_steps, smoke.train.stage2.lora.r, smoke.train.stage2.lora.alpha) == (2, 4, 128)
    assert (smoke.data.max_examples, smoke.data.dev_fraction, smoke.seed) == (8, 0.2, 1)
    dropped = load_recipe(recipe_file, "evaluation-only")
    assert dropped.name == "paper-eval" and dropped.train is None


def test_the_recipes_own_profile_key_chooses_one_and_the_command_line_wins(recipe_file):
    recipe_file.write_text(recipe_file.read_text() + "profile: smoke\n")
    assert load_recipe(recipe_file).name == "paper-smoke"
    assert load_recipe(recipe_file, "evaluation-only").name == "paper-eval"


def test_an_unknown_profile_names_the_ones_there_are(recipe_file):
    with pytest.raises(RecipeError, match=r"no profile 'tiny' in this recipe \(it defines: evaluation-only, smoke\)"):
        load_recipe(recipe_file, "tiny")
    assert apply_profile({"name": "x"}, "smoke")[1] == ["profile: the recipe defines no profiles (--profile smoke)"]
    assert apply_profile({"name": "x", "profiles": [1]}, None)[1] == [
        "profiles: expected a mapping of profile names to partial recipes"]


def test_a_saved_run_recipe_reloads_as_exactly_what_ran(recipe_file, tmp_path):
    smoke = load_recipe(recipe_file, "smoke")
    saved = tmp_path / "run"
    saved.mkdir()
    (saved / "recipe.yaml").write_text(yaml.safe_dump(smoke.model_dump(mode="json")), encoding="utf-8")
    assert load_run_recipe(saved) == smoke
    with pytest.raises(RecipeError, match="made with profile 'smoke', not 'evaluation-only'"):
        from medadapt.recipe.loader import _validated
        _validated(saved / "recipe.yaml", "evaluation-only")


def test_data_references_resolve_in_the_data_folder_variable_first(recipe_file, tmp_path, monkeypatch):
    load_recipe(recipe_file)
    assert resolve_path("data://kqa/qa.jsonl") == tmp_path / "datasets" / "kqa" / "qa.jsonl"
    other = tmp_path / "elsewhere"
    monkeypatch.setenv(DATA_ENV, str(other))
    assert resolve_path("data://kqa/qa.jsonl") == other / "kqa" / "qa.jsonl"
    with pytest.raises(RecipeError) as raised:
        load_recipe(recipe_file)
    assert raised.value.problems == [
        f"data.sources.0.path: file not found: data://kqa/qa.jsonl (not in the data folder {other}; get it from "
        "K-QA (English patient questions with physician answers): github.com/Itaymanes/K-QA, MIT)"]


def test_no_data_folder_is_one_line_naming_the_three_ways(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE, encoding="utf-8")
    with pytest.raises(RecipeError, match=r"data\.sources\.0\.path: data://kqa/qa\.jsonl: no data folder: pass "
                                          r"--data-dir DIR, set MEDADAPT_DATA, or give the recipe a data_dir"):
        load_recipe(path)


def test_cli_profile_and_data_dir(recipe_file, tmp_path, monkeypatch):
    bare = tmp_path / "bare.yaml"
    bare.write_text(RECIPE, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["recipe", "validate", str(bare), "--profile", "smoke",
                                 "--data-dir", str(tmp_path / "datasets")])
    assert result.exit_code == 0, result.output
    assert "run 'paper-smoke'" in result.output
    result = runner.invoke(app, ["data", str(bare), "--plan", "--profile", "smoke", "--runs-dir", str(tmp_path / "runs"),
                                 "--data-dir", str(tmp_path / "datasets")])
    assert result.exit_code == 0, result.output
    assert "plan for paper-smoke: data" in result.output
    monkeypatch.delenv(DATA_ENV, raising=False)  # --data-dir set it for the command's processes
