"""The recipe a run saves (``runs/<name>/recipe.yaml``, written as the runner writes it) validates again and
equals the recipe that ran: every shipped recipe, every curate preset (issue 21, failure 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medadapt.curate.config import load_preset, preset_names
from medadapt.errors import RecipeError
from medadapt.recipe import Recipe, load_recipe, load_run_recipe, recipe_hash
from shared_data import use_shared_data

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "recipes").glob("*.yaml"))


def saved(recipe: Recipe, run_dir: Path) -> Path:
    """``run_dir/recipe.yaml`` exactly as :func:`medadapt.runs.runner.run_stages` writes it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe.model_dump(mode="json"), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def test_every_shipped_recipe_is_checked():
    assert len(SHIPPED) >= 7 and any(p.name == "gaokerena-curate.yaml" for p in SHIPPED)


@pytest.mark.parametrize("recipe_file", SHIPPED, ids=lambda p: p.stem)
def test_a_shipped_recipe_survives_its_saved_copy(recipe_file, tmp_path, monkeypatch):
    use_shared_data(recipe_file, monkeypatch)  # data:// files: from ../shared/data (skipped when not there)
    recipe = load_recipe(recipe_file)
    again = load_run_recipe(saved(recipe, tmp_path / "run").parent)
    assert again == recipe and recipe_hash(again) == recipe_hash(recipe)
    # and saving the reloaded recipe writes the same file (the record does not drift run after run)
    assert saved(again, tmp_path / "second").read_text() == (tmp_path / "run" / "recipe.yaml").read_text()


@pytest.mark.parametrize("preset", preset_names())
def test_a_recipe_with_a_preset_survives_its_saved_copy(preset, tmp_path):
    source = tmp_path / "recipe.yaml"
    source.write_text(f"name: p\nlanguages: [fa]\nmodel: smollm2-135m\ncurate:\n"
                      f"  inputs: [{{path: medadapt://demo/qa.jsonl, kind: qa}}]\n  preset: {preset}\n", encoding="utf-8")
    recipe = load_recipe(source)
    path = saved(recipe, tmp_path / "run")
    written = yaml.safe_load(path.read_text(encoding="utf-8"))["curate"]
    # an honest record: the preset's name and the steps that ran
    assert written["preset"] == preset and [s["step"] for s in written["steps"]] == [s["step"] for s in load_preset(preset)]
    assert load_run_recipe(path.parent) == recipe


def test_a_preset_with_other_steps_is_still_refused(tmp_path):
    source = tmp_path / "recipe.yaml"
    source.write_text("name: p\nlanguages: [fa]\nmodel: smollm2-135m\ncurate:\n"
                      "  inputs: [{path: medadapt://demo/qa.jsonl, kind: qa}]\n  preset: gaokerena_qa\n"
                      "  steps: [{step: normalize}]\n", encoding="utf-8")
    with pytest.raises(RecipeError) as info:
        load_recipe(source)
    assert info.value.problems == ["curate: give either `preset` or `steps`, not both (these steps differ from "
                                   "preset gaokerena_qa's)"]


def test_a_run_without_a_saved_recipe_is_one_line(tmp_path):
    with pytest.raises(RecipeError) as info:
        load_run_recipe(tmp_path)
    assert "no saved recipe" in info.value.one_line() and "\n" not in info.value.one_line()
