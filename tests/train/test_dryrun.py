"""`medadapt train --dry-run`: plans from configs alone (meta device), for every shipped recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers import CHATS, TEXTS, train_recipe, write_data
from medadapt.cli.main import app
from medadapt.errors import ModelError
from medadapt.recipe import Recipe, load_recipe
from medadapt.train.dryrun import plan
from medadapt.train.packing import token_stream

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
#: published base-model sizes (parameters), which the meta-device count must reproduce
BASE_PARAMETERS = {"gaokerena": 8_028_033_024, "mmed-ift": 8_030_261_248, "bimedix": 46_702_792_704,
                   "collectivesft": 7_737_708_544}


@pytest.mark.parametrize("name", sorted(BASE_PARAMETERS))
def test_each_paper_recipe_validates_and_plans(tmp_path, name):
    recipe = load_recipe(RECIPES / f"{name}.yaml", sections={"train"})  # as `medadapt train --dry-run` loads it
    plans = plan(recipe, RECIPES, tmp_path / name)
    assert [p.stage for p in plans] == [s for s in ("stage1", "stage2") if getattr(recipe.train, s)]
    for p in plans:
        assert p.total - (p.trainable if p.method != "full" else 0) == BASE_PARAMETERS[name]
        assert p.tokens_per_epoch is None and "does not exist yet" in p.token_count  # no data stage ran here
        assert p.memory_gib["total"] == pytest.approx(sum(v for k, v in p.memory_gib.items() if k != "total"), abs=0.05)
    by_method = {p.method: p for p in plans}
    if "qlora" in by_method:  # 4-bit weights: about a quarter of 16-bit
        assert by_method["qlora"].memory_gib["weights"] < 0.4 * BASE_PARAMETERS[name] * 2 / 1024**3
    if "full" in by_method:
        assert by_method["full"].trainable == by_method["full"].total


def test_plan_counts_tokens_and_steps_from_the_data(tmp_path, tiny_model_dir, tiny_tokenizer):
    write_data(tmp_path)
    recipe = Recipe.model_validate(train_recipe(tiny_model_dir, stage1={"max_steps": None, "epochs": 2},
                                                stage2={"max_steps": None}))
    stage1, stage2 = plan(recipe, tmp_path, tmp_path / "runs/tiny")
    tokens = len(token_stream(tiny_tokenizer, TEXTS))
    assert stage1.tokens_per_epoch == tokens and stage1.token_count == "tokenizer"
    blocks = -(-tokens // 16)
    train_blocks = blocks - round(blocks * 0.2)
    assert stage1.steps == -(-train_blocks // 2) * 2  # batch 2, 2 epochs
    assert stage2.steps == 4 and stage2.tokens_per_epoch > 0  # 8 chats, batch 2
    assert 0 < stage2.trainable < stage2.total


def test_hub_id_without_a_shipped_config_says_what_it_needs(tmp_path):
    recipe = Recipe.model_validate({"name": "x", "languages": ["en"], "model": "someone/unknown-7b",
                                    "train": {"stage2": {}}})
    with pytest.raises(ModelError, match="no config to plan from: put the model's config.json in"):
        plan(recipe, tmp_path, tmp_path / "runs/x")


def test_cli_dry_run_prints_the_plan(tmp_path):
    """Before the data stage ran (issue 21, item 8: "tokens/epoch ?"), it says which command comes first."""
    recipe = yaml.safe_load((RECIPES / "gaokerena.yaml").read_text())
    result = CliRunner().invoke(app, ["train", str(RECIPES / "gaokerena.yaml"), "--dry-run",
                                      "--runs-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "20,971,520 / 8,049,004,544" in result.output and recipe["model"] in result.output
    assert not (tmp_path / "gaokerena").exists()  # planning runs nothing
    assert "?" not in result.output and result.output.count("after `medadapt data`") == 4  # tokens and steps
    assert (f"run `medadapt data {RECIPES / 'gaokerena.yaml'} --runs-dir {tmp_path}` first for token counts"
            in result.output)
    assert "stage2 dev evaluation: up to 64 dev chats (dev_max_examples: 64) scored before and after training" \
        in result.output


def test_plan_states_the_dev_evaluation_cost(tmp_path, tiny_model_dir):
    """Issue 21, item 3: scoring every dev chat before and after ten steps took 14 of 16 minutes, unannounced."""
    from medadapt.models.chat import load_chat_tokenizer, tokenize_chat

    write_data(tmp_path)
    recipe = Recipe.model_validate(train_recipe(tiny_model_dir, stage1={"dev_fraction": 0},
                                                stage2={"eval_steps": 2, "dev_max_examples": 1}))
    stage1, stage2 = plan(recipe, tmp_path, tmp_path / "runs/tiny")
    first_dev_chat = tokenize_chat(load_chat_tokenizer(str(tiny_model_dir), None), CHATS[0], 64)["input_ids"]
    assert stage1.dev == "none (dev_fraction: 0)"
    assert stage2.dev == ("1 of 2 dev chats scored (dev_max_examples: 1) before and after training and every 2 "
                          f"steps: 4 × 1 = 4 forward passes, ~{4 * len(first_dev_chat):,} tokens (training: 4 steps "
                          "× 2 examples, forward and backward)")
    uncapped = Recipe.model_validate(train_recipe(tiny_model_dir, stage1={}, stage2={"dev_max_examples": None}))
    stage1, stage2 = plan(uncapped, tmp_path, tmp_path / "runs/tiny")
    held = round(-(-len(token_stream(load_chat_tokenizer(str(tiny_model_dir), None), TEXTS)) // 16) * 0.2)
    assert stage1.dev.startswith(f"{held} of {held} dev blocks of 16 tokens scored (dev_max_examples: 64) before "
                                 f"and after training: 2 × {held} = {2 * held} forward passes, ~{32 * held} tokens")
    assert stage2.dev.startswith("2 of 2 dev chats scored (dev_max_examples: null, all) before and after training")
    no_dev = Recipe.model_validate(train_recipe(tiny_model_dir, stage2={"dev_input": None}))
    assert plan(no_dev, tmp_path, tmp_path / "runs/tiny")[0].dev == "none (dev_input: null)"


def test_cli_launch_prints_the_accelerate_command(tmp_path):
    result = CliRunner().invoke(app, ["train", str(RECIPES / "collectivesft.yaml"), "--launch", "--resume"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "accelerate launch --config_file" in result.output and "accelerate_zero2.yaml" in result.output
    assert result.output.strip().endswith("--runs-dir runs --resume")
    refused = CliRunner().invoke(app, ["train", str(RECIPES / "gaokerena.yaml"), "--launch"])
    assert refused.exit_code != 0 and "train.distributed: set ddp, zero2, zero3 or fsdp" in str(refused.exception or refused.output)


def test_cli_dry_run_prints_each_stage_s_paper_settings(tmp_path):
    """Issue 16: the dry-run shows the settings a paper's method section lists, to check a recipe against it
    (here MMed-IFT's: quantised DoRA instruction tuning, merge, QLoRA)."""
    recipe = {"name": "paper", "languages": ["en"], "model": "meta-llama/Meta-Llama-3-8B",
              "data": {"sources": [{"path": "medadapt://demo/qa.jsonl", "format": "qa"}]},
              "train": {"stage1": {"objective": "sft", "method": "qdora", "max_steps": None, "epochs": 2,
                                   "learning_rate": 5e-5, "warmup_ratio": 0.2,
                                   "lora": {"r": 32, "alpha": 16, "dropout": 0.05}},
                        "stage2": {"method": "qlora", "batch_size": 4, "grad_accum": 8, "learning_rate": 2e-5,
                                   "warmup_steps": 10, "gradient_checkpointing": True, "weight_decay": 0.1,
                                   "lora": {"r": 16, "alpha": 8, "target_modules": ["q_proj", "k_proj", "v_proj"]}}}}
    (tmp_path / "paper.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    result = CliRunner().invoke(app, ["train", str(tmp_path / "paper.yaml"), "--dry-run", "--runs-dir",
                                      str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    expected = [
        "stage1 objective: instruction tuning (chats cut at 256 tokens, loss on assistant turns)",
        "stage1 method: qdora: r 32, alpha 16, dropout 0.05, targets all-linear",
        "stage1 optimizer: AdamW, lr 5e-05, cosine schedule, warmup ratio 0.2, weight decay 0, max grad norm 1",
        "stage1 length: 2 epochs",
        "stage2 method: qlora: r 16, alpha 8, dropout 0.05, targets q_proj, k_proj, v_proj",
        "stage2 batch: 4 per device × 8 accumulation = 32 per optimizer step on each GPU",
        "stage2 optimizer: AdamW, lr 2e-05, cosine schedule, warmup 10 steps, weight decay 0.1, max grad norm 1",
        "stage2 length: 30 steps (max_steps)",
        "stage2 memory: gradient checkpointing on, quantisation 4-bit NF4 base, double quantisation (bitsandbytes, "
        "CUDA), precision auto",
        "between stages: merge; multi-GPU: none; merged model: yes; trust_remote_code: false",
    ]
    assert [line for line in expected if line not in result.output] == []


def test_settings_follow_the_recipe():
    from medadapt.train.config import InstructionStageConfig, SFTStageConfig
    from medadapt.train.dryrun import settings

    lines = settings(InstructionStageConfig(objective="sft", method="qdora", max_steps=None, epochs=2, warmup_steps=10,
                                            weight_decay=0.5, lora={"r": 32, "alpha": 16, "dropout": 0.0,
                                                                    "target_modules": ["q_proj", "v_proj"]}))
    assert lines == [
        "objective: instruction tuning (chats cut at 256 tokens, loss on assistant turns)",
        "method: qdora: r 32, alpha 16, dropout 0.0, targets q_proj, v_proj",
        "batch: 2 per device × 1 accumulation = 2 per optimizer step on each GPU",
        "optimizer: AdamW, lr 0.0002, cosine schedule, warmup 10 steps, weight decay 0.5, max grad norm 1",
        "length: 2 epochs",
        "memory: gradient checkpointing off, quantisation 4-bit NF4 base, double quantisation (bitsandbytes, CUDA), "
        "precision auto",
    ]
    assert settings(SFTStageConfig(method="full"))[1] == "method: full fine-tuning (every weight, fp32 master copy)"


def test_plan_of_an_instruction_tuning_stage1_counts_its_chats(tmp_path, tiny_model_dir):
    write_data(tmp_path)
    stage1 = {"objective": "sft", "input": "chat.jsonl", "dev_input": "chat_dev.jsonl", "max_length": 64,
              "max_steps": None}
    recipe = Recipe.model_validate(train_recipe(tiny_model_dir, stage1=stage1, stage2={"max_steps": None}))
    first, second = plan(recipe, tmp_path, tmp_path / "runs/tiny")
    assert first.steps == second.steps == 4 and first.tokens_per_epoch == second.tokens_per_epoch  # same 8 chats
    assert first.dev.startswith("2 of 2 dev chats scored") and first.settings[0].startswith("objective: instruction")


def test_plan_runs_a_model_s_own_code_only_when_trusted(tmp_path, tiny_model_dir):
    from tiny import build_custom_code_model

    custom = build_custom_code_model(tmp_path / "custom", tiny_model_dir)
    recipe = train_recipe(custom, stage2={})
    with pytest.raises(ModelError, match="set trust_remote_code: true in the recipe"):
        plan(Recipe.model_validate(recipe), tmp_path, tmp_path / "runs/tiny")
    (stage2,) = plan(Recipe.model_validate({**recipe, "trust_remote_code": True}), tmp_path, tmp_path / "runs/tiny")
    assert 0 < stage2.trainable < stage2.total
