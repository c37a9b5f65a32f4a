"""recipes/gaokerena-cpu.yaml (issue 20): the recipe and its `full` profile validate; with the Gaokerena files in
../shared/data, every data:// reference resolves, the MedMCQA-fa explanations read as text, and the curated
held-out split shares no question, no answer and no corpus text with what trains."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.recipe import Recipe, load_recipe
from medadapt.recipe.profiles import apply_profile
from medadapt.records.importers import import_file
from medadapt.records.jsonl import iter_jsonl
from medadapt.text.fold import MATCH, fold
from shared_data import DATA, data_references

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "gaokerena-cpu.yaml"
needs_data = pytest.mark.skipif(not (DATA / "gaokerena").is_dir(), reason=f"the Gaokerena files are not in {DATA}")


@pytest.mark.parametrize("profile", [None, "full"])
def test_the_recipe_and_its_full_profile_are_valid_recipes(profile):
    raw, problems = apply_profile(yaml.safe_load(RECIPE.read_text(encoding="utf-8")), profile)
    assert problems == []
    recipe = Recipe.model_validate(raw)
    assert recipe.model == ("gemma3-270m" if profile is None else "CohereForAI/aya-expanse-8b")
    assert recipe.train.stage1 and recipe.train.stage2 and recipe.curate.split.test_fraction > 0
    # base vs stage-1 vs trained: the stage-1 column is the base with this run's stage-1 adapter
    assert [(m.name, m.model, m.adapter) for m in recipe.evaluate.models] == [
        ("stage1", recipe.model, "run://train/stage1/adapter")]
    # held out: the curate stage's test splits, which nothing trains on
    assert {s.path for s in recipe.evaluate.perplexity.sets} == {"run://curate/qa/test.jsonl",
                                                                 "run://curate/article/test.jsonl"}
    assert {s.path for s in recipe.data.sources} == {"run://curate/qa/train.jsonl", "run://curate/article/train.jsonl"}


@needs_data
@pytest.mark.parametrize("profile", [None, "full"])
def test_every_data_reference_resolves_in_the_shared_data_folder(profile, monkeypatch):
    monkeypatch.setenv("MEDADAPT_DATA", str(DATA))
    load_recipe(RECIPE, profile)  # curate inputs and benchmarks: a missing file is a RecipeError
    references = data_references(RECIPE)
    assert len(references) == 26  # the crawl, 22 corpus files, 2 MMLU-fa subjects, the exams
    for reference in references:
        assert (DATA / reference.removeprefix("data://")).is_file(), reference


@needs_data
def test_medmcqa_fa_explanations_read_as_text():
    path = DATA / "gaokerena/medmcqa_fa/filtered_qas_part1.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    result = import_file(path, "gaokerena-medmcqa-fa-explanations")
    written = [row for row in rows if row["Expression"].strip()]
    assert result.kind == "article" and len(result.records) == len(written) > 700
    assert len(result.rejected) == len(rows) - len(written)  # blank explanations
    first = result.records[0]
    assert (first.id, first.text, first.lang) == (written[0]["id"], written[0]["Expression"].strip(), "fa")


@needs_data
def test_the_held_out_splits_share_nothing_with_training(tmp_path):
    result = CliRunner().invoke(app, ["curate", str(RECIPE), "--runs-dir", str(tmp_path), "--data-dir", str(DATA)])
    assert result.exit_code == 0, result.output
    curated = tmp_path / "gaokerena-cpu" / "curate"

    def texts(kind: str, split: str, *fields: str) -> dict[str, set[str]]:
        rows = list(iter_jsonl(curated / kind / f"{split}.jsonl"))
        return {name: {fold(row[name], MATCH) for row in rows} for name in fields}

    train, test = texts("qa", "train", "question", "answer"), texts("qa", "test", "question", "answer")
    assert len(test["answer"]) > 200 and len(train["answer"]) > 10 * len(test["answer"])
    assert not train["question"] & test["question"] and not train["answer"] & test["answer"]
    corpus, held_out = texts("article", "train", "text")["text"], texts("article", "test", "text")["text"]
    assert len(held_out) > 200 and not corpus & held_out
