"""kill -9 a real training process after a checkpoint; --resume ends on the uninterrupted run's loss."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import yaml
from rich.console import Console

from helpers import train_recipe, write_data
from medadapt.recipe import Recipe
from medadapt.runs import run_stages
from medadapt.train.stage import TrainStage

# Runs the train stage and freezes right after its first checkpoint is on disk, so the test can kill it there.
FREEZE_AFTER_CHECKPOINT = """
import sys, time
from pathlib import Path
import yaml
from rich.console import Console
from medadapt.recipe import Recipe
from medadapt.runs import run_stages
from medadapt.train.callbacks import JsonlLogCallback
from medadapt.train.stage import TrainStage

def freeze(self, args, state, control, **kwargs):
    Path(sys.argv[2]).write_text(str(state.global_step))
    time.sleep(600)

JsonlLogCallback.on_save = freeze
recipe_file = Path(sys.argv[1])
recipe = Recipe.model_validate(yaml.safe_load(recipe_file.read_text()))
run_stages([TrainStage()], recipe, recipe_file, recipe_file.parent / "runs", set(), Console(quiet=True))
"""


def prepare(directory, recipe_dict):
    write_data(directory)
    recipe_file = directory / "recipe.yaml"
    recipe_file.write_text(yaml.safe_dump(recipe_dict), encoding="utf-8")
    return recipe_file


def train(recipe_file, resume=False):
    recipe = Recipe.model_validate(yaml.safe_load(recipe_file.read_text()))
    run = run_stages([TrainStage(resume=resume)], recipe, recipe_file, recipe_file.parent / "runs", set(),
                     Console(quiet=True)).run
    out = run.stage_dir("train")
    return json.loads((out / "summary.json").read_text()), [json.loads(r) for r in (out / "log.jsonl").read_text().splitlines()]


def test_resume_after_kill_matches_the_uninterrupted_run(tmp_path, tiny_model_dir):
    recipe_dict = train_recipe(tiny_model_dir, stage2={"max_steps": 6, "save_steps": 2, "batch_size": 1, "lora": {"dropout": 0.1}})
    _, reference_log = train(prepare(tmp_path / "whole", recipe_dict))

    recipe_file = prepare(tmp_path / "killed", recipe_dict)
    marker = tmp_path / "checkpointed"
    process = subprocess.Popen([sys.executable, "-c", FREEZE_AFTER_CHECKPOINT, str(recipe_file), str(marker)],
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert marker.read_text() == "2"
    assert (recipe_file.parent / "runs/tiny/train-state/stage2/checkpoint-2").is_dir()

    summary, log = train(recipe_file, resume=True)
    assert summary["resumed_from_step"] == 2 and summary["steps"] == 6
    losses = [r["loss"] for r in log if "loss" in r]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3, 4, 5, 6]
    reference = [r["loss"] for r in reference_log if "loss" in r]
    assert abs(losses[-1] - reference[-1]) < 1e-4, (losses, reference)
    assert all(abs(a - b) < 1e-4 for a, b in zip(losses, reference)), (losses, reference)
