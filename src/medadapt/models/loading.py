"""Load a model for inference: a reference (alias, directory, hub id), optionally with a LoRA adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.errors import ModelError
from medadapt.models.registry import resolve_model


def inference_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_for_inference(reference: str, adapter: Path | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode. An adapter is merged into the base for speed."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model(reference)
    device = inference_device()
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(adapter) if adapter else source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    except OSError as exc:
        raise ModelError(f"cannot load: {str(exc).splitlines()[0]}", field=f"model {reference}") from None
    if adapter is not None:
        from peft import PeftModel

        if not (adapter / "adapter_config.json").is_file():
            raise ModelError("no adapter_config.json: not a PEFT adapter", file=str(adapter))
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer
