"""The report stage runs whenever the recipe has another stage, unless `report: false` (issue 21, item 8):
the README lists report as a stage, and a recipe without `report:` used to make none."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.recipe.schema import Recipe
from medadapt.stages import stages_for

BASE = {"name": "r", "languages": ["fa"], "model": "smollm2-135m"}
CURATE = {"inputs": [{"path": "qa.jsonl", "kind": "qa"}], "preset": "gaokerena_qa"}


def test_report_is_on_by_default_and_off_only_when_asked():
    assert [s.name for s in stages_for(Recipe(**BASE, curate=CURATE))] == ["curate", "report"]
    assert [s.name for s in stages_for(Recipe(**BASE, curate=CURATE, report=False))] == ["curate"]
    assert Recipe(**BASE, curate=CURATE, report=True).report is not None
    assert Recipe(**BASE).report is None  # nothing to report on (a chat-only recipe)


def test_the_saved_form_re_validates_to_the_same_choice():
    for report in (None, False, {"title": "T"}):
        given = {} if report is None else {"report": report}
        recipe = Recipe(**BASE, curate=CURATE, **given)
        assert Recipe.model_validate(recipe.model_dump(mode="json")) == recipe


def test_a_recipe_without_report_makes_one(tmp_path):
    answer = " ".join(["پاسخ"] * 50)
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps({"id": str(i), "source": "f", "lang": "fa", "question":
                                                           f"سوال {i}؟", "answer": answer}) + "\n" for i in range(3)))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: r\nlanguages: [fa]\nmodel: smollm2-135m\ncurate:\n  inputs: [{path: qa.jsonl, kind: qa}]\n"
                      "  preset: gaokerena_qa\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(recipe), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "r" / "report" / "report.md").is_file()
