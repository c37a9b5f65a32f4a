"""The evaluate stage runs each configured kind in turn, all with the same contestants and translator opener,
and reads the files each configured kind names."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from medadapt.evaluate import stage as stage_module
from medadapt.evaluate.kinds import Contestant
from medadapt.evaluate.stage import EvaluateStage
from medadapt.recipe import Recipe
from medadapt.runs.stage import RunDir, StageContext

PIPELINE = {"name": "via-en", "model": "pivot-model", "translator": {"kind": "openai", "base_url": "http://x/v1",
                                                                     "model": "t"}}


def recipe(**evaluate) -> Recipe:
    return Recipe(name="t", languages=["en"], model="base-model",
                  evaluate={"benchmarks": [{"name": "b", "path": "b.jsonl", "num_fewshot": 1, "fewshot_path": "f.jsonl"}],
                            "decontamination": {"training_data": ["train.jsonl"]}, **evaluate})


def test_inputs_are_what_each_configured_kind_reads(tmp_path):
    run = RunDir(tmp_path / "runs" / "t")
    plain = EvaluateStage().inputs(recipe(), tmp_path, run)
    assert plain == {"benchmark.b": tmp_path / "b.jsonl", "fewshot.b": tmp_path / "f.jsonl",
                     "training.0": tmp_path / "train.jsonl"}
    with_freeform = EvaluateStage().inputs(recipe(freeform={"questions": "q.jsonl"}), tmp_path, run)
    assert with_freeform == {**plain, "freeform.questions": tmp_path / "q.jsonl"}


class Recorder:
    """A kind that records what the stage gives it (as a perplexity kind would be given it)."""

    every_process = False

    def __init__(self, name: str, configured: bool):
        self.name, self._configured, self.calls = name, configured, []

    def configured(self, section) -> bool:
        return self._configured

    def inputs(self, recipe) -> dict[str, str]:
        return {}

    def run(self, ctx, contestants, translator):
        self.calls.append((contestants, translator))
        return {f"{self.name}.ran": True}


def test_each_configured_kind_runs_with_the_same_contestants(tmp_path, monkeypatch):
    kinds = (Recorder("first", True), Recorder("skipped", False), Recorder("third", True))
    monkeypatch.setattr(stage_module, "KINDS", kinds)
    run = RunDir(tmp_path / "runs" / "t")
    out = run.partial_dir("evaluate")
    out.mkdir(parents=True)
    ctx = StageContext(recipe(pipelines=[PIPELINE]), tmp_path, run, out, Console(quiet=True))
    summary = EvaluateStage().run(ctx)
    assert summary == {"first.ran": True, "third.ran": True} and not kinds[1].calls
    (given, opener), (again, same_opener) = kinds[0].calls[0], kinds[2].calls[0]
    assert given == again and opener is same_opener
    assert [c.label for c in given] == ["base", "pipeline:via-en"]
    assert given[0] == Contestant("base", "base-model") and given[1].pipeline.model == "pivot-model"


def test_other_models_are_contestants_in_their_own_columns(tmp_path, monkeypatch):
    kinds = (Recorder("only", True),)
    monkeypatch.setattr(stage_module, "KINDS", kinds)
    run = RunDir(tmp_path / "runs" / "t")
    out = run.partial_dir("evaluate")
    out.mkdir(parents=True)
    models = [{"name": "aya-8b", "model": "aya-expanse-8b"}, {"name": "tuned", "model": "m", "adapter": "adapters/a"}]
    ctx = StageContext(recipe(models=models, pipelines=[PIPELINE]), tmp_path, run, out, Console(quiet=True))
    EvaluateStage().run(ctx)
    given, _ = kinds[0].calls[0]
    assert [c.label for c in given] == ["base", "aya-8b", "tuned", "pipeline:via-en"]
    assert given[2] == Contestant("tuned", "m", tmp_path / "adapters" / "a")
    assert EvaluateStage().inputs(recipe(models=models), tmp_path, run)["models.tuned.adapter"] == tmp_path / "adapters/a"


def test_another_models_label_cannot_take_the_stages_own():
    import pytest
    from pydantic import ValidationError

    for name in ("base", "trained", "pipeline-x"):
        with pytest.raises(ValidationError, match="taken by the stage's own columns"):
            recipe(models=[{"name": name, "model": "m"}])
    with pytest.raises(ValidationError, match="model names must be unique"):
        recipe(models=[{"name": "a", "model": "m"}, {"name": "a", "model": "n"}])
