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
