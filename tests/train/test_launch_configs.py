"""The shipped launch configs (train/launch/) read the way ``accelerate launch`` reads them, by the installed
accelerate: its argument parser and checks turn each YAML into the environment it gives the processes, and
the plugin the Accelerator builds from that environment (FSDP, DeepSpeed) accepts it, with the DeepSpeed JSON
the Trainer passes. DeepSpeed itself is not installed here (CPU), so its own config schema is not run; what
accelerate checks of that JSON (ZeRO section, stage, offload, fields it fills) is."""

from __future__ import annotations

import pytest

from medadapt.train.arguments import DISTRIBUTED, LAUNCH_DIR


def _launch_environment(distributed: str) -> tuple[object, dict[str, str]]:
    """(accelerate launch's parsed arguments, the environment it would start the processes with)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_multi_gpu_env

    args = launch_command_parser().parse_args(
        ["--config_file", str(LAUNCH_DIR / DISTRIBUTED[distributed][0]), "--num_processes", "2", "train.py"])
    args, _, _ = _validate_launch_command(args)
    if distributed.startswith("zero"):
        return args, {"ACCELERATE_USE_DEEPSPEED": "true",
                      "ACCELERATE_DEEPSPEED_ZERO_STAGE": str(args.zero_stage),
                      "ACCELERATE_DEEPSPEED_ZERO3_INIT": str(args.zero3_init_flag).lower()}
    return args, prepare_multi_gpu_env(args)


def test_ddp_and_fsdp_configs_give_the_environment_and_plugin_accelerate_builds(monkeypatch):
    from accelerate.utils import FullyShardedDataParallelPlugin

    args, env = _launch_environment("ddp")
    assert args.multi_gpu and not args.use_fsdp and not args.use_deepspeed and args.num_processes == 2
    args, env = _launch_environment("fsdp")
    assert args.use_fsdp and env["ACCELERATE_USE_FSDP"] == "true" and env["FSDP_VERSION"] == "2"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    plugin = FullyShardedDataParallelPlugin()  # reads FSDP_* as the Accelerator does in every process
    assert plugin.fsdp_version == 2 and plugin.reshard_after_forward is True
    assert plugin.auto_wrap_policy is not None and plugin.cpu_ram_efficient_loading is True
    assert str(plugin.state_dict_type).endswith("SHARDED_STATE_DICT") and type(plugin.cpu_offload).__name__ == "OffloadPolicy"  # FSDP2: no CPU offload


@pytest.mark.parametrize("distributed,stage", [("zero2", 2), ("zero3", 3)])
def test_deepspeed_configs_pass_accelerates_checks(monkeypatch, distributed, stage):
    from accelerate.utils import DeepSpeedPlugin

    args, env = _launch_environment(distributed)
    assert args.use_deepspeed and args.zero_stage == stage
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    plugin = DeepSpeedPlugin(hf_ds_config=str(LAUNCH_DIR / DISTRIBUTED[distributed][1]))
    assert plugin.zero_stage == stage and plugin.hf_ds_config.is_zero3() == (stage == 3)
    assert plugin.zero3_init_flag == (stage == 3)
    assert plugin.offload_optimizer_device == plugin.offload_param_device == "none"
    # the "auto" values the Trainer fills from the recipe
    assert plugin.hf_ds_config.config["train_micro_batch_size_per_gpu"] == "auto"
