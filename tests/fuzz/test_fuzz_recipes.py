"""Broken recipes through ``load_recipe`` and ``medadapt recipe validate``: the shipped recipes with values
of the wrong type, unknown keys, deleted keys and references to nothing, and files that are not a recipe
at all (YAML junk, a list or a scalar at the top, another encoding). Each problem is one line naming the
recipe file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fuzz_files import yaml_bytes
from fuzz_helpers import CASES, FUZZ, assert_clean_exit, no_traceback, run_main
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medadapt.recipe import load_recipe

RECIPES = Path(__file__).parents[2] / "recipes"
BASES = {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(RECIPES.glob("*.yaml"))}
RECIPE_FILES = st.sampled_from(list(BASES.values())).flatmap(yaml_bytes)


@pytest.fixture(scope="module")
def recipe_path(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-recipe") / "recipe.yaml"


@settings(FUZZ, max_examples=350)
@example(data=b"[" * 3000)  # nested past PyYAML's recursion limit
@given(data=RECIPE_FILES)
def test_a_broken_recipe_is_one_line_per_problem(recipe_path, data):
    recipe_path.write_bytes(data)
    with no_traceback("recipe load", data, str(recipe_path)):
        load_recipe(recipe_path)


@settings(FUZZ, max_examples=50)
@given(data=RECIPE_FILES)
def test_recipe_validate_prints_one_error_line_per_problem(recipe_path, monkeypatch, data):
    recipe_path.write_bytes(data)
    args = ["recipe", "validate", str(recipe_path)]
    CASES["cli recipe validate"] += 1
    code, out, err = run_main(args, monkeypatch)
    assert_clean_exit(code, out, err, args, data)
