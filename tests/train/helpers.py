"""A two-stage train recipe on the tiny model, with its own text and chat files (no data stage)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from rich.console import Console

from medadapt.recipe import Recipe
from medadapt.runs import run_stages
from medadapt.train.stage import TrainStage

TEXTS = [
    "The patient has a fever and a headache. Drink water and rest.",
    "Hypertension raises the risk of stroke. Aspirin, insulin, metformin.",
    "بیمار تب و سردرد دارد. آب بنوشید و استراحت کنید.",
    "Which nerve supplies the diaphragm? The phrenic nerve.",
] * 3
CHATS = [
    [{"role": "user", "content": "I have a fever."}, {"role": "assistant", "content": "Drink water and rest."}],
    [{"role": "user", "content": "سردرد دارم"}, {"role": "assistant", "content": "به پزشک مراجعه کنید."},
     {"role": "user", "content": "Is aspirin safe?"}, {"role": "assistant", "content": "Ask a doctor first."}],
] * 4


def write_data(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "text.jsonl").open("w", encoding="utf-8") as handle:
        for i, text in enumerate(TEXTS):
            handle.write(json.dumps({"id": f"t{i}", "source": "test", "lang": "en", "text": text}) + "\n")
    for name, chats in (("chat.jsonl", CHATS), ("chat_dev.jsonl", CHATS[:2])):
        with (directory / name).open("w", encoding="utf-8") as handle:
            for i, messages in enumerate(chats):
                handle.write(json.dumps({"id": f"c{i}", "messages": messages}, ensure_ascii=False) + "\n")


def train_recipe(model_dir: Path, stage1: dict | None = None, stage2: dict | None = None, **train) -> dict:
    """A recipe dict whose train section reads the files of :func:`write_data` (recipe-relative)."""
    common = {"max_steps": 4, "batch_size": 2, "learning_rate": 1e-3, "threads": 1}
    section = {**train}
    if stage1 is not None:  # continued pretraining on the texts, or (objective: sft) instruction tuning on the chats
        own = ({"input": "chat.jsonl", "dev_input": "chat_dev.jsonl", "max_length": 64}
               if stage1.get("objective") == "sft" else {"input": "text.jsonl", "block_size": 16, "dev_fraction": 0.2})
        section["stage1"] = {**own, **common, **stage1}
    if stage2 is not None:
        section["stage2"] = {"input": "chat.jsonl", "dev_input": "chat_dev.jsonl", "max_length": 64, **common,
                             **stage2}
    return {"name": "tiny", "languages": ["en", "fa"], "model": str(model_dir), "seed": 0, "train": section}


def run_train(directory: Path, recipe_dict: dict, report: bool = False, resume: bool = False,
              console: Console | None = None) -> Path:
    """Run the train stage (and the report after it) on :func:`write_data`'s files; return ``train/``. What the
    stage prints goes to ``console`` (default: nowhere)."""
    from medadapt.report.stage import ReportStage

    write_data(directory)
    recipe_file = directory / "recipe.yaml"
    recipe_dict = {**recipe_dict, "report": {}} if report else recipe_dict
    recipe_file.write_text(yaml.safe_dump(recipe_dict), encoding="utf-8")
    recipe = Recipe.model_validate(recipe_dict)
    stages = [TrainStage(resume=resume), ReportStage()] if report else [TrainStage(resume=resume)]
    result = run_stages(stages, recipe, recipe_file, directory / "runs", set(), console or Console(quiet=True))
    return result.run.stage_dir("train")
