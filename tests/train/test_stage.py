"""The train stage end to end on the tiny model: stage 1 → merge → stage 2 → merged model directory."""

from __future__ import annotations

import json

from helpers import run_train, train_recipe


def test_two_stages_merge_and_write_every_artefact(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    out = run_train(tmp_path, train_recipe(tiny_model_dir, stage1={"eval_steps": 2}, stage2={"method": "dora"}),
                    report=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["stage1"]["steps"] == 4 and summary["merged"] == "merged"
    assert summary["stage1"]["train_blocks"] + summary["stage1"]["dev_blocks"] == -(-summary["stage1"]["tokens"] // 16)
    assert summary["assistant_tokens"] > 0 and summary["trainable_parameters"] < summary["total_parameters"]
    assert summary["tokens_per_second"] > 0 and summary["device"] == "cpu" and summary["precision"] == "fp32"
    stage1_log = [json.loads(line) for line in (out / "stage1/log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in stage1_log if "loss" in r] == [1, 2, 3, 4]
    assert [r["step"] for r in stage1_log if "eval_loss" in r] == [0, 2, 4, 4]  # before, every 2 steps, after
    assert (out / "stage1/adapter/adapter_config.json").is_file() and (out / "stage1-loss.png").is_file()
    assert json.loads((out / "adapter/adapter_config.json").read_text())["use_dora"] is True
    assert [r["step"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r] == [1, 2, 3, 4]

    merged = out / "merged"
    assert AutoTokenizer.from_pretrained(merged).chat_template
    assert AutoTokenizer.from_pretrained(merged).eos_token_id in GenerationConfig.from_pretrained(merged).eos_token_id
    assert not any(n.startswith("base_model") for n in dict(AutoModelForCausalLM.from_pretrained(merged).named_parameters()))
    assert not (tmp_path / "runs/tiny/train-state").exists()  # removed once the stage succeeded

    report = (tmp_path / "runs/tiny/report/report.md").read_text()
    assert "## Training, stage 1 (continued pretraining, lora)" in report and "## Training, stage 2 (SFT, dora)" in report
    assert "![stage 1 loss](train-stage1-loss.png)" in report and (tmp_path / "runs/tiny/report/train-stage1-loss.png").is_file()
    assert "Model to load: `train/merged/`" in report


def test_full_fine_tuning_stage1_only_writes_a_model_directory(tmp_path, tiny_model_dir):
    out = run_train(tmp_path, train_recipe(tiny_model_dir, stage1={"method": "full", "dev_fraction": 0}))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["merged"] == "model" and summary["trainable_parameters"] == summary["total_parameters"]
    assert (out / "model/model.safetensors").is_file() and (out / "model/generation_config.json").is_file()
    assert (out / "log.jsonl").read_text() == (out / "stage1/log.jsonl").read_text()


def test_instruction_tuning_stage1_then_merge_then_stage2(tmp_path, tiny_model_dir):
    """MMed-IFT's road: stage 1 SFT on chats (its own file), merged into the base, then stage 2 SFT on it."""
    from transformers import AutoModelForCausalLM

    stage1 = {"objective": "sft", "input": "chat.jsonl", "dev_input": "chat_dev.jsonl", "max_length": 64,
              "method": "dora", "warmup_steps": 1}
    out = run_train(tmp_path, train_recipe(tiny_model_dir, stage1=stage1, stage2={}), report=True)
    summary = json.loads((out / "summary.json").read_text())
    first = summary["stage1"]
    assert first["objective"] == "sft" and first["steps"] == 4 and first["train_examples"] == 8
    assert 0 < first["assistant_tokens"] < first["tokens"] and first["dev_loss_after"] is not None
    assert json.loads((out / "stage1/adapter/adapter_config.json").read_text())["use_dora"] is True
    assert (out / "stage1/rejected.jsonl").is_file() and summary["steps"] == 4 and summary["merged"] == "merged"
    assert AutoModelForCausalLM.from_pretrained(out / "merged") is not None
    report = (tmp_path / "runs/tiny/report/report.md").read_text()
    assert "## Training, stage 1 (instruction tuning, dora)" in report and "8 chats" in report
    assert "## Training, stage 2 (SFT, lora)" in report


def test_a_model_with_its_own_code_trains_only_when_trusted(tmp_path, tiny_model_dir):
    import pytest

    from tiny import build_custom_code_model
    from medadapt.errors import ModelError

    custom = build_custom_code_model(tmp_path / "custom", tiny_model_dir)
    recipe = train_recipe(custom, stage1={"max_steps": 1}, stage2={"max_steps": 1})
    with pytest.raises(ModelError, match="set trust_remote_code: true in the recipe"):
        run_train(tmp_path / "refused", recipe)
    out = run_train(tmp_path / "trusted", {**recipe, "trust_remote_code": True})
    config = json.loads((out / "merged/config.json").read_text())
    assert config["architectures"] == ["TinyCustomForCausalLM"] and (out / "merged/modeling_tinycustom.py").is_file()
