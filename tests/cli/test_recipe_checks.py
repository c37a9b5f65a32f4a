"""`recipe validate` checks what needs no model (issue 21, item 5): language data for every stage that needs
it, each problem naming the recipe key that adds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medadapt.cli.recipe_checks import language_problems
from medadapt.errors import RecipeError
from medadapt.llm.errors import LLMError
from medadapt.llm.prompts import available_languages, load_prompts
from medadapt.recipe import load_recipe
from shared_data import use_shared_data

BASE = "name: t\nlanguages: [ku]\nmodel: smollm2-135m\n"
QA = "medadapt://demo/qa.jsonl"


def problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "recipe.yaml"
    path.write_text(BASE + body, encoding="utf-8")
    try:
        recipe = load_recipe(path)
    except RecipeError as error:
        return error.problems
    return language_problems(recipe, path.parent)


def test_a_language_without_task_prompts_fails_validate_naming_generate_prompts(tmp_path):
    """Before: `recipe validate` passed; `generate` loaded the model, then failed naming a package path."""
    body = f"generate:\n  tasks: [{{task: expand, input: {QA}}}]\n"
    path = tmp_path / "recipe.yaml"
    path.write_text(BASE + body, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "medadapt.cli", "recipe", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "generate.prompts: no task prompts for language 'ku'" in done.stderr


def test_a_prompts_folder_with_the_language_satisfies_the_check(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "ku.yaml").write_text((Path(load_prompts("en").file)).read_text(encoding="utf-8"))
    path = tmp_path / "recipe.yaml"
    path.write_text("name: t\nlanguages: [ku]\nmodel: smollm2-135m\ngenerate:\n  prompts: prompts\n"
                    f"  tasks: [{{task: expand, input: {QA}}}]\n", encoding="utf-8")
    assert language_problems(load_recipe(path), tmp_path) == []
    assert "ku" in available_languages(tmp_path / "prompts") and "ku" not in available_languages()


def test_the_run_time_error_names_the_recipe_key_not_a_package_path():
    with pytest.raises(LLMError) as caught:
        load_prompts("ku")
    assert "generate.prompts" in str(caught.value) and "site-packages" not in str(caught.value)
    assert caught.value.file is None


def test_keyword_lists_mcqa_prompts_and_safety_packs_are_checked_per_language(tmp_path):
    found = problems(tmp_path, f"curate:\n  inputs: [{{path: {QA}, kind: qa}}]\n  steps: [{{step: knowledge_density}}]\n"
                               f"data:\n  sources: [{{path: {QA}}}]\ntrain:\n  stage2: {{}}\n"
                               "evaluate:\n  benchmarks: [{name: x, path: medadapt://demo/mcqa.jsonl}]\n")
    assert any(p.startswith("curate.steps.0.keywords: no medical keyword list for language 'ku'") for p in found)
    assert any(p.startswith("evaluate.benchmarks.0.prompt_file: no multiple-choice prompt for language 'ku'")
               for p in found)
    assert any(p.startswith("languages: no chat safety pack for 'ku'") for p in found)


def test_a_keyword_file_in_the_recipe_satisfies_the_keyword_check(tmp_path):
    (tmp_path / "ku.txt").write_text("نەخۆشی\n", encoding="utf-8")
    found = problems(tmp_path, f"curate:\n  inputs: [{{path: {QA}, kind: qa}}]\n"
                               "  steps: [{step: knowledge_density, keywords: {ku: ku.txt}}]\n"
                               "evaluate:\n  benchmarks: [{name: x, path: medadapt://demo/mcqa.jsonl}]\n")
    assert not any("keyword" in p for p in found) and any("multiple-choice" in p for p in found)


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_shipped_recipe_has_the_language_data_its_stages_need(path, monkeypatch):
    use_shared_data(path, monkeypatch)  # data:// files: from ../shared/data (skipped when not there)
    assert language_problems(load_recipe(path), path.parent) == [], path.name
