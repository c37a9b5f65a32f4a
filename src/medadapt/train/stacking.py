"""``between_stages: stack``: stage 2 trains a new adapter on top of the frozen stage-1 adapter.

PEFT's multi-adapter API does the work. The stage-1 adapter is loaded under the name ``stage1``, frozen and
without its dropout (it must act as the fixed weights it is once merged); the stage-2 adapter is PEFT's
``default``. Both are active, stage 2 first, because transformers' Trainer takes the first active adapter for
the trained one when it resumes from a checkpoint or loads the best one, and finds only ``default`` at a
checkpoint's root. PEFT applies and merges active adapters in the same order, so the merged model equals the
stacked one (DoRA included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from medadapt.models.loading import write_adapter_stack

STAGE1_ADAPTER = "stage1"
STAGE2_ADAPTER = "default"
ACTIVE_ADAPTERS = [STAGE2_ADAPTER, STAGE1_ADAPTER]


def activate_stack(model: Any) -> None:
    """Both adapters active, only stage 2's trainable (``set_adapter`` makes every active adapter trainable)."""
    model.base_model.set_adapter(ACTIVE_ADAPTERS)
    model.set_requires_grad(STAGE1_ADAPTER, requires_grad=False)


def stacked_model(model: Any, stage1_adapter: Path, stage2_config: Any) -> Any:
    """``model`` + the frozen stage-1 adapter + a new trainable stage-2 adapter (``stage2_config``)."""
    from peft import PeftConfig, PeftModel

    frozen = PeftConfig.from_pretrained(str(stage1_adapter))
    frozen.lora_dropout = 0.0
    stacked = PeftModel.from_pretrained(model, str(stage1_adapter), adapter_name=STAGE1_ADAPTER, config=frozen)
    stacked.add_adapter(STAGE2_ADAPTER, stage2_config)
    activate_stack(stacked)
    return stacked


def save_stack(adapter: Path) -> None:
    """Mark the saved stage-2 adapter folder (stage 1 in its ``stage1/`` subfolder) as one stack for the loaders."""
    write_adapter_stack(adapter, ACTIVE_ADAPTERS)


class KeepAdaptersStacked(TrainerCallback):
    """Re-activate the stack after a resume: transformers' checkpoint loader ends with
    ``set_adapter(active_adapters[0])``, which would silently train stage 2 without stage 1. The optimizer,
    created in between from the trainable parameters, holds stage 2's parameters either way."""

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        activate_stack(model)
