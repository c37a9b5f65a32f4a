"""Merge adapters into the base (``merge_and_unload``) and write a complete model directory.

An adapter folder holding a stack (``between_stages: stack``) merges every adapter of it, in the order they
were active in training (``medadapt.models.loading.with_adapters``).

The base is re-loaded in 16/32-bit for the merge, never merged in 4-bit, so a QLoRA adapter yields the same
merged weights as a LoRA one. The directory holds what inference needs: safetensors, the tokenizer with
its chat template, and a generation config that stops at the template's end-of-turn token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def merged_model(source: str, adapter: Path, dtype: Any, trust_remote_code: bool = False) -> Any:
    from transformers import AutoModelForCausalLM

    from medadapt.models.loading import remote_code, with_adapters

    base = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **remote_code(source, trust_remote_code))
    return with_adapters(base, adapter).merge_and_unload()


def save_model_dir(model: Any, tokenizer: Any, target: Path) -> Path:
    """safetensors + tokenizer (chat template included) + generation config ending at end-of-turn."""
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    generation = model.generation_config
    stop = generation.eos_token_id if isinstance(generation.eos_token_id, list) else [generation.eos_token_id]
    generation.eos_token_id = [t for t in dict.fromkeys([*stop, tokenizer.eos_token_id]) if t is not None]
    generation.pad_token_id = tokenizer.pad_token_id
    generation.save_pretrained(target)
    return target


def merge_to_dir(source: str, adapter: Path, tokenizer: Any, target: Path, dtype: Any,
                 trust_remote_code: bool = False) -> Path:
    """``source`` + ``adapter`` merged and saved as a standalone model directory at ``target``."""
    return save_model_dir(merged_model(source, adapter, dtype, trust_remote_code), tokenizer, target)
