from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from run_fixtures import write_evaluate, write_json, write_manifest, write_train

from medadapt.evaluate.report import write_report as evaluate_report
from medadapt.recipe import load_recipe
from medadapt.train.report import write_report as train_report


@pytest.fixture(scope="session")
def tiny_generator(tiny_model_dir):
    from medadapt.llm.streaming import Generator
    from medadapt.models.loading import load_for_inference

    model, tokenizer = load_for_inference(str(tiny_model_dir))
    return Generator(model, tokenizer, "tiny")


SYSTEM = "You are a careful medical assistant."


@pytest.fixture(scope="session")
def preset_run(tiny_model_dir, tmp_path_factory) -> Path:
    """runs/preset-run as the stages leave it (train/merged: the tiny model), its recipe.yaml written as the
    runner writes it; its recipe used a curate preset and names chat settings."""
    source = tmp_path_factory.mktemp("recipe") / "recipe.yaml"
    source.write_text(f"""
name: preset-run
languages: [en]
model: {tiny_model_dir}
curate:
  inputs: [{{path: medadapt://demo/qa.jsonl, kind: qa}}]
  preset: gaokerena_qa
data:
  qa: [{{path: run://curate/qa/train.jsonl}}]
train:
  stage2: {{max_steps: 3}}
evaluate:
  benchmarks: [{{name: tiny-mcqa, path: medadapt://demo/mcqa.jsonl}}]
report: {{title: Preset run}}
chat: {{system_prompt: {SYSTEM}, max_new_tokens: 3, temperature: 0}}
""", encoding="utf-8")
    recipe = load_recipe(source)
    run = tmp_path_factory.mktemp("runs") / recipe.name
    run.mkdir()
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe.model_dump(mode="json"), allow_unicode=True,
                                                    sort_keys=False), encoding="utf-8")
    assert "preset: gaokerena_qa" in (run / "recipe.yaml").read_text() and "steps:" in (run / "recipe.yaml").read_text()
    write_manifest(run, {"curate": "done", "data": "done", "train": "done", "evaluate": "done"})
    (run / "train").mkdir()
    write_train(run / "train", stage1=False)
    train_report(run / "train")
    shutil.copytree(tiny_model_dir, run / "train" / "merged")
    write_evaluate(run / "evaluate")
    evaluate_report(run / "evaluate")
    predictions = [{"id": f"q{i}", "model": model, "correct": correct}
                   for model, answers in (("base", [1, 0, 0, 1]), ("trained", [1, 1, 1, 1]))
                   for i, correct in enumerate(answers)]
    (run / "evaluate" / "tiny-mcqa" / "predictions.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in predictions), encoding="utf-8")
    write_json(run / "data" / "stats.json", {"train": 4, "dev": 0, "rejected": 0, "rejected_by": {},
                                             "by_lang": {"en": 4}, "by_source": {"demo": 4}})
    return run
