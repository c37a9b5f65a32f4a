"""Recipe options reach PEFT / transformers as they are written; GPU-only paths fail clearly on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from medadapt.errors import ModelError
from medadapt.train.arguments import DISTRIBUTED, LAUNCH_DIR, launch_command, training_arguments
from medadapt.train.config import SFTStageConfig, TrainSection
from medadapt.train.setup import choose_precision, load_trainable_model, peft_config


def tiny_mixtral():
    from transformers import MixtralConfig, MixtralForCausalLM

    return MixtralForCausalLM(MixtralConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2, num_local_experts=4))


def adapted_parameters(model, cfg: SFTStageConfig) -> set[str]:
    from peft import get_peft_model

    peft = get_peft_model(model, peft_config(cfg))
    return {name for name, p in peft.named_parameters() if p.requires_grad}


def test_moe_attention_experts_and_router_are_adapted():
    cfg = SFTStageConfig(lora={"r": 4, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj"],
                               "target_parameters": ["mlp.experts.gate_up_proj", "mlp.experts.down_proj",
                                                     "mlp.gate.weight"]})
    names = adapted_parameters(tiny_mixtral(), cfg)
    layer0 = {n.split("layers.0.", 1)[1].rsplit(".lora_", 1)[0] for n in names if "layers.0." in n}
    assert {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"} <= layer0
    assert any("experts" in n for n in layer0) and any(n.startswith("mlp.gate") for n in layer0)
    assert not any("o_proj" in n for n in names)


def test_regex_targets_and_dora(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    cfg = SFTStageConfig(method="dora", lora={"target_modules": r".*layers\.1\.self_attn\.(q_proj|v_proj)$"})
    names = adapted_parameters(AutoModelForCausalLM.from_pretrained(tiny_model_dir), cfg)
    assert {n.split(".layers.")[1].split(".lora")[0] for n in names} == {"1.self_attn.q_proj", "1.self_attn.v_proj"}
    assert any("lora_magnitude_vector" in n for n in names)  # DoRA's magnitude


def test_full_fine_tuning_trains_every_weight(tiny_model_dir):
    model = load_trainable_model(str(tiny_model_dir), SFTStageConfig(method="full"), "fp32", cuda=False, seed=0)
    assert all(p.requires_grad for p in model.parameters()) and not hasattr(model, "peft_config")


def test_qlora_on_cpu_is_a_clear_error(tiny_model_dir):
    with pytest.raises(ModelError, match="QLoRA .* needs a CUDA GPU"):
        load_trainable_model(str(tiny_model_dir), SFTStageConfig(method="qlora"), "fp32", cuda=False, seed=0)


def test_qlora_quantisation_config_on_gpu(monkeypatch):
    """On a GPU machine: 4-bit NF4 with double quantisation, compute in the training precision."""
    import sys
    import types

    import torch

    from medadapt.train.setup import quantization_config

    monkeypatch.setitem(sys.modules, "bitsandbytes", types.ModuleType("bitsandbytes"))
    config = quantization_config(SFTStageConfig(method="qlora"), cuda=True, precision="bf16")
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert quantization_config(SFTStageConfig(method="lora"), cuda=True, precision="bf16") is None


def test_precision_follows_the_hardware():
    assert choose_precision("auto", cuda=False) == "fp32"
    assert choose_precision("fp16", cuda=False) == "fp16"


def test_recipe_options_become_training_arguments(tmp_path):
    cfg = SFTStageConfig(max_steps=None, epochs=2, grad_accum=16, warmup_ratio=0.2, weight_decay=0.5,
                         max_grad_norm=0.3, gradient_checkpointing=True, save_steps=7, eval_steps=3,
                         early_stopping_patience=2, report_to=["tensorboard"])
    args = training_arguments(cfg, tmp_path, seed=5, precision="bf16", cuda=True, has_dev=True)
    assert args["max_steps"] == -1 and args["num_train_epochs"] == 2 and args["gradient_accumulation_steps"] == 16
    assert args["warmup_steps"] == 0.2 and args["weight_decay"] == 0.5 and args["max_grad_norm"] == 0.3
    assert args["bf16"] and not args["fp16"] and args["activation_checkpointing"]
    assert (args["save_steps"], args["eval_strategy"], args["eval_steps"]) == (7, "steps", 3)
    assert args["load_best_model_at_end"] and args["metric_for_best_model"] == "eval_loss"
    assert args["report_to"] == ["tensorboard"] and args["seed"] == args["data_seed"] == 5
    assert "deepspeed" not in args
    no_dev = training_arguments(cfg, tmp_path, seed=5, precision="fp32", cuda=False, has_dev=False)
    assert no_dev["eval_strategy"] == "no" and not no_dev["load_best_model_at_end"] and no_dev["use_cpu"]


def test_invalid_train_sections_name_the_field():
    with pytest.raises(ValidationError, match="early_stopping_patience needs eval_steps"):
        SFTStageConfig(early_stopping_patience=2)
    with pytest.raises(ValidationError, match="need dropout: 0"):
        SFTStageConfig(lora={"target_parameters": ["mlp.experts.down_proj"], "dropout": 0.1})
    with pytest.raises(ValidationError, match="train needs stage1, stage2 or both"):
        TrainSection()
    with pytest.raises(ValidationError, match="method"):
        SFTStageConfig(method="lorra")


@pytest.mark.parametrize("distributed,stage", [("zero2", 2), ("zero3", 3)])
def test_deepspeed_wiring(tmp_path, distributed, stage):
    args = training_arguments(SFTStageConfig(), tmp_path, 0, "bf16", True, False, distributed)
    ds = json.loads(open(args["deepspeed"]).read())
    assert ds["zero_optimization"]["stage"] == stage
    # "auto" lets the Trainer fill batch size, accumulation, clipping and precision from the recipe
    assert ds["gradient_accumulation_steps"] == ds["gradient_clipping"] == ds["train_micro_batch_size_per_gpu"] == "auto"
    accelerate_yaml = yaml.safe_load((LAUNCH_DIR / DISTRIBUTED[distributed][0]).read_text())
    assert accelerate_yaml["distributed_type"] == "DEEPSPEED"
    assert accelerate_yaml["deepspeed_config"]["zero_stage"] == stage


def test_accelerate_reads_the_shipped_configs():
    from accelerate.commands.config.config_args import load_config_from_file

    kinds = {name: load_config_from_file(str(LAUNCH_DIR / files[0])) for name, files in DISTRIBUTED.items()}
    assert {name: c.distributed_type.value for name, c in kinds.items()} == {
        "ddp": "MULTI_GPU", "zero2": "DEEPSPEED", "zero3": "DEEPSPEED", "fsdp": "FSDP"}
    assert kinds["fsdp"].fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert training_arguments(SFTStageConfig(), LAUNCH_DIR, 0, "bf16", True, False, "fsdp").get("deepspeed") is None


def test_launch_command_runs_medadapt_train_under_accelerate(tmp_path):
    command = launch_command("zero2", tmp_path / "r.yaml", ["--resume"])
    assert command[:3] == ["accelerate", "launch", "--config_file"]
    assert command[3] == str(LAUNCH_DIR / "accelerate_zero2.yaml")
    assert command[4].endswith("medadapt") and Path(command[4]).is_file()  # the console script, run by Python
    assert command[5:] == ["train", str(tmp_path / "r.yaml"), "--resume"]


def test_qdora_on_cpu_or_without_bitsandbytes_is_a_clear_error(tiny_model_dir, monkeypatch):
    import sys

    with pytest.raises(ModelError, match=r"method qdora: quantised DoRA \(4-bit bitsandbytes\) needs a CUDA GPU; "
                                         "use method: dora on CPU"):
        load_trainable_model(str(tiny_model_dir), SFTStageConfig(method="qdora"), "fp32", cuda=False, seed=0)
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # not installed: the import fails
    from medadapt.train.setup import quantization_config

    with pytest.raises(ModelError, match=r"quantised DoRA needs bitsandbytes: pip install 'medadapt\[gpu\]'"):
        quantization_config(SFTStageConfig(method="qdora"), cuda=True, precision="bf16")


def test_qdora_is_dora_on_the_qlora_base(monkeypatch):
    """What a GPU run hands the libraries: QLoRA's 4-bit NF4 config, and PEFT's LoraConfig with use_dora."""
    import sys
    import types

    from medadapt.train.setup import quantization_config

    monkeypatch.setitem(sys.modules, "bitsandbytes", types.ModuleType("bitsandbytes"))
    cfg = SFTStageConfig(method="qdora", lora={"r": 32, "alpha": 16})
    quantised, qlora = (quantization_config(c, cuda=True, precision="bf16") for c in (cfg, SFTStageConfig(method="qlora")))
    assert quantised.to_dict() == qlora.to_dict() and quantised.load_in_4bit
    lora = peft_config(cfg)
    assert lora.use_dora and (lora.r, lora.lora_alpha) == (32, 16)
    assert not peft_config(SFTStageConfig(method="qlora")).use_dora


def test_warmup_steps_replace_the_ratio(tmp_path):
    from medadapt.train.config import PretrainStageConfig

    steps = training_arguments(SFTStageConfig(warmup_steps=10, warmup_ratio=0.2), tmp_path, 0, "fp32", False, False)
    assert steps["warmup_steps"] == 10 and isinstance(steps["warmup_steps"], int)
    assert training_arguments(PretrainStageConfig(warmup_ratio=0.2), tmp_path, 0, "fp32", False, False)["warmup_steps"] == 0.2
    with pytest.raises(ValidationError, match="warmup_steps"):
        SFTStageConfig(warmup_steps=-1)


def test_stage1_objective_chooses_the_config():
    from medadapt.train.config import InstructionStageConfig, PretrainStageConfig

    assert isinstance(TrainSection(stage1={}).stage1, PretrainStageConfig)
    sft = TrainSection(stage1={"objective": "sft", "max_length": 128}).stage1
    assert isinstance(sft, InstructionStageConfig) and sft.input == "run://data/stage1_chat.jsonl"
    assert sft.dev_input is None
    assert TrainSection(stage1={"objective": "sft", "input": "qa.jsonl", "dev_input": None}).input_references() == [
        ("stage1.input", "qa.jsonl")]
    with pytest.raises(ValidationError, match="block_size"):  # a pretraining key on an sft stage 1
        TrainSection(stage1={"objective": "sft", "block_size": 64})
    with pytest.raises(ValidationError, match="'pretrain', 'sft'"):
        TrainSection(stage1={"objective": "chat"})
