"""A mistyped recipe key gets "did you mean" (issue 21, item 7), at any depth of the schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from medadapt.errors import RecipeError
from medadapt.recipe import load_recipe

QA = "medadapt://demo/qa.jsonl"


def problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "recipe.yaml"
    path.write_text("name: t\nlanguages: [en]\nmodel: smollm2-135m\n" + body, encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    return caught.value.problems


@pytest.mark.parametrize("body, location, suggestion", [
    ("trian: {}\n", "trian", "train"),
    ("train:\n  stage2: {learning_rat: 0.1}\n", "train.stage2.learning_rat", "learning_rate"),
    (f"curate:\n  inputs: [{{path: {QA}, kind: qa}}]\n  steps: [{{step: length, min_wrds: 3}}]\n",
     "curate.steps.0.length.min_wrds", "min_words"),
    (f"data:\n  sources: [{{path: {QA}, fromat: qa}}]\n", "data.sources.0.fromat", "format"),
])
def test_a_mistyped_key_gets_did_you_mean(tmp_path, body, location, suggestion):
    found = problems(tmp_path, body)
    assert any(p.startswith(f"{location}: ") and f"(did you mean `{suggestion}`?)" in p for p in found), found


def test_a_key_like_nothing_gets_no_suggestion(tmp_path):
    found = problems(tmp_path, "zzzzqqq: 1\n")
    assert found == ["zzzzqqq: Extra inputs are not permitted"]
