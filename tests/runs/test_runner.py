"""The runner's skip / force / atomic-output logic, on small stages that only move files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from medadapt.errors import RunError
from medadapt.recipe import Recipe
from medadapt.runs import Manifest, RunDir, Stage, StageContext, plan_stages, run_stages

CALLS: list[str] = []


class Upper(Stage):
    """Reads a user file named in the recipe, writes it upper-cased."""

    name = "upper"

    def inputs(self, recipe, recipe_dir, run):
        return {"text": recipe_dir / "input.txt"}

    def run(self, ctx: StageContext):
        CALLS.append(self.name)
        text = (ctx.recipe_dir / "input.txt").read_text() * (1 + ctx.recipe.seed)
        (ctx.out / "upper.txt").write_text(text.upper())
        return {"chars": len(text)}


class Count(Stage):
    """Reads the previous stage's output."""

    name = "count"
    fail = False

    def inputs(self, recipe, recipe_dir, run):
        return {"upper": run.stage_dir("upper") / "upper.txt"}

    def run(self, ctx: StageContext):
        CALLS.append(self.name)
        (ctx.out / "partial.txt").write_text("half")
        if self.fail:
            raise KeyboardInterrupt  # as if killed mid-way
        text = (ctx.run.stage_dir("upper") / "upper.txt").read_text()
        (ctx.out / "count.json").write_text(json.dumps({"n": len(text)}))
        return {}


@pytest.fixture
def setup(tmp_path):
    CALLS.clear()
    (tmp_path / "input.txt").write_text("fever")
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text("name: t\nlanguages: [en]\nmodel: m\n")
    recipe = Recipe(name="t", languages=["en"], model="m")
    return tmp_path, recipe_path, recipe


def go(setup, stages=None, force=(), recipe=None):
    tmp_path, recipe_path, default = setup
    return run_stages(stages or [Upper(), Count()], recipe or default, recipe_path, tmp_path / "runs",
                      set(force), Console(quiet=True))


def test_second_run_skips_everything(setup):
    result = go(setup)
    assert CALLS == ["upper", "count"] and result.skipped == []
    assert (setup[0] / "runs/t/count/count.json").read_text() == '{"n": 5}'
    assert result.manifest.stages["upper"].summary == {"chars": 5}
    CALLS.clear()
    assert go(setup).skipped == ["upper", "count"]
    assert CALLS == []
    saved = Manifest.load(setup[0] / "runs/t/manifest.json", "t")
    assert saved.stages["count"].status == "done" and saved.versions["torch"]
    assert saved.stages["upper"].inputs["text"] and saved.stages["upper"].output_hash


def test_input_change_reruns_that_stage_and_downstream(setup):
    go(setup)
    CALLS.clear()
    (setup[0] / "input.txt").write_text("cough")
    go(setup)
    assert CALLS == ["upper", "count"]


def test_unchanged_output_keeps_downstream_skipped(setup):
    go(setup)
    CALLS.clear()
    go(setup, force=["upper"])  # same input, same output → count's input hash is unchanged
    assert CALLS == ["upper"]


def test_a_field_the_stage_read_reruns_it_and_what_reads_its_output(setup):
    go(setup)
    CALLS.clear()
    go(setup, recipe=Recipe(name="t", languages=["en"], model="m", seed=7))
    assert CALLS == ["upper", "count"]  # upper read seed; its output changed, so count re-runs too


def test_a_field_no_stage_read_skips_everything(setup):
    go(setup)
    CALLS.clear()
    assert go(setup, recipe=Recipe(name="t", languages=["en", "fa"], model="other")).skipped == ["upper", "count"]
    assert CALLS == []


def test_tampered_output_is_redone(setup):
    go(setup)
    CALLS.clear()
    (setup[0] / "runs/t/upper/upper.txt").write_text("edited by hand")
    go(setup)
    assert CALLS[0] == "upper"


def test_unknown_force_stage_is_an_error(setup):
    with pytest.raises(RunError, match="--force names stages not in this recipe: nope"):
        go(setup, force=["nope"])


def test_killed_stage_leaves_no_output_and_is_redone(setup):
    failing = Count()
    failing.fail = True
    with pytest.raises(KeyboardInterrupt):
        go(setup, stages=[Upper(), failing])
    run = RunDir(setup[0] / "runs/t")
    assert not run.stage_dir("count").exists()  # nothing a later stage could mistake for complete
    assert Manifest.load(run.manifest_path, "t").stages["count"].status == "failed"
    CALLS.clear()
    go(setup)
    assert CALLS == ["count"]
    assert not run.partial_dir("count").exists()
    assert (run.stage_dir("count") / "count.json").is_file()


def test_missing_input_names_the_stage(setup):
    with pytest.raises(RunError, match="stage count is missing its inputs: upper"):
        go(setup, stages=[Count()])


def test_missing_input_names_the_stage_that_makes_it(setup):
    tmp_path, recipe_path, recipe = setup
    with pytest.raises(RunError, match=r"missing its inputs: upper \(made by upper: run `medadapt upper"):
        run_stages([Count()], recipe, recipe_path, tmp_path / "runs", set(), Console(quiet=True),
                   road=[Upper(), Count()])


def test_plan_names_what_runs_and_why(setup):
    tmp_path, recipe_path, recipe = setup
    fresh = plan_stages([Upper(), Count()], recipe, recipe_path, tmp_path / "runs")
    assert [(p.name, p.action) for p in fresh] == [("upper", "run"), ("count", "run")]
    assert "input not there yet: upper" in fresh[1].reasons
    go(setup)
    assert [p.action for p in plan_stages([Upper(), Count()], recipe, recipe_path, tmp_path / "runs")] == ["skip"] * 2
    changed = plan_stages([Upper(), Count()], Recipe(name="t", languages=["en"], model="m", seed=3), recipe_path,
                          tmp_path / "runs")
    assert changed[0].reasons == ["recipe changed: seed"]
    assert (changed[1].action, changed[1].depends_on) == ("run if upstream output changes", ["upper"])
    (tmp_path / "input.txt").write_text("cough")
    assert plan_stages([Upper(), Count()], recipe, recipe_path, tmp_path / "runs")[0].reasons == ["input changed: text"]
    CALLS.clear()
    assert plan_stages([Upper(), Count()], recipe, recipe_path, tmp_path / "runs", {"count"})[1].reasons[0] == "--force"
    assert CALLS == []  # planning runs nothing


def test_a_stage_cannot_change_the_recipe(setup):
    class Writer(Upper):
        name = "writer"

        def run(self, ctx):
            ctx.recipe.seed = 3

    with pytest.raises(AttributeError, match="must not change the recipe"):
        go(setup, stages=[Writer()])
