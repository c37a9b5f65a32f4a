from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medadapt.errors import RecipeError
from medadapt.recipe import load_recipe, recipe_hash

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(content, encoding="utf-8")
    return path


def test_shipped_recipes_are_valid():
    recipe = load_recipe(REPO / "recipes" / "demo.yaml")
    assert recipe.name == "demo"
    assert recipe.train.stage2.lora.r == 8
    assert load_recipe(REPO / "recipes" / "demo-fa.yaml").model == "gemma3-270m"


def test_every_problem_is_reported_at_once_with_file_and_field(tmp_path):
    path = write(tmp_path, """
name: demo
languages: [en, Persian]
model: smollm2-135m
data:
  qa:
    - path: missing.jsonl
  dev_fraction: 1.5
train:
  stage2:
    max_steps: -1
    lorra: {r: 8}
evaluate:
  benchmarks:
    - name: b
      path: nowhere.jsonl
""")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    lines = info.value.one_line().splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    fields = {line.split(": ")[1] for line in lines}
    assert {"languages", "data.dev_fraction", "train.stage2.max_steps", "train.stage2.lorra"} <= fields
    # file checks run only once the structure is valid, so fix it and see them
    fixed = path.read_text().replace("Persian", "fa").replace("1.5", "0.1").replace("-1", "5").replace("lorra", "lora")
    path.write_text(fixed)
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert info.value.problems == [
        "data.qa.0.path: file not found: missing.jsonl",
        "evaluate.benchmarks.0.path: file not found: nowhere.jsonl",
    ]


def test_bad_yaml_names_line(tmp_path):
    path = write(tmp_path, "name: demo\nlanguages: [en\nmodel: x\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    (line,) = info.value.one_line().splitlines()
    assert line.startswith(f"{path}: line ") and "invalid YAML" in line


def test_not_a_mapping_and_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="expected a mapping"):
        load_recipe(write(tmp_path, "- just\n- a list\n"))
    with pytest.raises(RecipeError, match="file not found"):
        load_recipe(tmp_path / "absent.yaml")


def test_unknown_chat_template_is_reported(tmp_path):
    path = write(tmp_path, "name: x\nlanguages: [en]\nmodel: m\nchat_template: klingon\n")
    with pytest.raises(RecipeError, match="chat_template: not a shipped template .*chatml.* nor a file: klingon"):
        load_recipe(path)


def test_train_needs_data_and_system_prompt_languages(tmp_path):
    path = write(tmp_path, "name: x\nlanguages: [en]\nmodel: m\ntrain: {stage2: {}}\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert "train: needs a data section to train on" in info.value.problems


def test_hash_ignores_formatting_but_not_values(tmp_path):
    base = {"name": "x", "languages": ["en"], "model": "m"}
    a = write(tmp_path, yaml.safe_dump(base))
    first = recipe_hash(load_recipe(a))
    a.write_text("# a comment\nmodel: m\nlanguages:\n  - en\nname: x\n")
    assert recipe_hash(load_recipe(a)) == first
    a.write_text(yaml.safe_dump({**base, "seed": 1}))
    assert recipe_hash(load_recipe(a)) != first
