"""TrainingArguments shared by both stages, and the multi-GPU wiring to the shipped config files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from medadapt.train.config import StageConfig
from medadapt.train.setup import mixed_precision

LAUNCH_DIR = Path(__file__).with_name("launch")
#: recipe `distributed:` → (accelerate config for `accelerate launch`, DeepSpeed JSON for the Trainer or None)
DISTRIBUTED = {
    "ddp": ("accelerate_ddp.yaml", None),
    "zero2": ("accelerate_zero2.yaml", "deepspeed_zero2.json"),
    "zero3": ("accelerate_zero3.yaml", "deepspeed_zero3.json"),
    "fsdp": ("accelerate_fsdp.yaml", None),
}


def distributed_arguments(distributed: str) -> dict[str, Any]:
    """``deepspeed=<shipped json>`` for ZeRO; nothing for DDP and FSDP, which accelerate's config file turns on."""
    if distributed == "none" or DISTRIBUTED[distributed][1] is None:
        return {}
    return {"deepspeed": str(LAUNCH_DIR / DISTRIBUTED[distributed][1])}


def launch_command(distributed: str, recipe: Path, extra: list[str] | None = None,
                   processes: int | None = None) -> list[str]:
    """The ``accelerate launch`` command line that runs ``medadapt train RECIPE`` in ``processes`` processes
    (default: the config file's, one per GPU of an 8-GPU node)."""
    accelerate_config = LAUNCH_DIR / DISTRIBUTED[distributed][0]
    # accelerate launch runs a Python script: the `medadapt` console script installed beside this Python
    script = shutil.which("medadapt") or str(Path(sys.executable).with_name("medadapt"))
    count = ["--num_processes", str(processes)] if processes else []
    return ["accelerate", "launch", "--config_file", str(accelerate_config), *count, script, "train", str(recipe),
            *(extra or [])]


def training_arguments(cfg: StageConfig, output_dir: Path, seed: int, precision: str, cuda: bool,
                       has_dev: bool, distributed: str = "none") -> dict[str, Any]:
    """Keyword arguments for ``TrainingArguments`` (or TRL's ``SFTConfig``, its subclass)."""
    evaluate = has_dev and cfg.eval_steps is not None
    return {
        **mixed_precision(precision),
        **distributed_arguments(distributed),
        "output_dir": str(output_dir),
        "max_steps": cfg.max_steps or -1,
        "num_train_epochs": cfg.epochs,
        "per_device_train_batch_size": cfg.batch_size,
        "per_device_eval_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "learning_rate": cfg.learning_rate,
        "lr_scheduler_type": cfg.lr_scheduler,
        # an int counts steps, a float < 1 is a ratio of the total steps (transformers ≥ 5)
        "warmup_steps": cfg.warmup_ratio if cfg.warmup_steps is None else cfg.warmup_steps,
        "weight_decay": cfg.weight_decay,
        "max_grad_norm": cfg.max_grad_norm,
        "activation_checkpointing": cfg.gradient_checkpointing,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": cfg.save_steps,
        "save_total_limit": 2,
        "eval_strategy": "steps" if evaluate else "no",
        "eval_steps": cfg.eval_steps if evaluate else None,
        "load_best_model_at_end": bool(evaluate and cfg.early_stopping_patience),
        "metric_for_best_model": "eval_loss" if evaluate and cfg.early_stopping_patience else None,
        "report_to": list(cfg.report_to) or "none",
        "disable_tqdm": True,
        "seed": seed,
        "data_seed": seed,
        "use_cpu": not cuda,
        "dataloader_pin_memory": cuda,
    }


def extra_callbacks(cfg: StageConfig, has_dev: bool) -> list[Any]:
    """Early stopping on the dev loss when the recipe asks for it."""
    if not (has_dev and cfg.eval_steps and cfg.early_stopping_patience):
        return []
    from transformers import EarlyStoppingCallback

    return [EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience)]
