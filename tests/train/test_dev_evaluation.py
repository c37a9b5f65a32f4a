"""Dev evaluation during training (issue 21, item 3: "ten training steps took 16 minutes, silently"): each
evaluation scores at most ``dev_max_examples`` dev chats, the first ones, and every one of them prints a line."""

from __future__ import annotations

import json
import re

from rich.console import Console

from helpers import run_train, train_recipe
from medadapt.train.config import PretrainStageConfig, SFTStageConfig


def test_the_cap_has_a_documented_default():
    for config in (SFTStageConfig, PretrainStageConfig):
        field = config.model_fields["dev_max_examples"]
        assert field.default == 64 and "null: all" in field.description
    assert SFTStageConfig(dev_max_examples=None).dev_max_examples is None


def test_each_evaluation_scores_the_first_dev_max_examples_and_says_so(tmp_path, tiny_model_dir):
    uncapped = run_train(tmp_path / "all", train_recipe(tiny_model_dir, stage2={"max_steps": 1,
                                                                                "dev_max_examples": None}))
    console = Console(record=True, width=200)
    # chat.jsonl holds 8 chats, the first two of which are chat_dev.jsonl's two
    capped = run_train(tmp_path / "capped", train_recipe(tiny_model_dir, stage2={
        "max_steps": 2, "eval_steps": 1, "dev_input": "chat.jsonl", "dev_max_examples": 2}), console=console)
    everything, first_two = (json.loads((out / "summary.json").read_text()) for out in (uncapped, capped))
    assert (everything["dev_examples"], everything["dev_scored"]) == (2, 2)
    assert (first_two["dev_examples"], first_two["dev_scored"]) == (8, 2)
    assert first_two["dev_loss_before"] == everything["dev_loss_before"]  # the same two chats scored
    lines = [re.fullmatch(r"stage 2 SFT: dev loss \d+\.\d{4} (.+) on 2 of 8 dev chats, \d+\.\d s", line)
             for line in console.export_text().splitlines() if line.startswith("stage 2 SFT: dev")]
    assert [line and line[1] for line in lines] == ["before training", "at step 1", "at step 2", "after training"]
    eval_steps = [row["step"] for row in map(json.loads, (capped / "log.jsonl").read_text().splitlines())
                  if "eval_loss" in row]
    assert eval_steps == [0, 1, 2, 2]
