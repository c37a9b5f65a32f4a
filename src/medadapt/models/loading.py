"""Load a model for inference: a reference (alias, directory, hub id), optionally with a trained adapter.

An adapter folder may hold several adapters that are active together (``train.between_stages: stack``). It
then follows PEFT's multi-adapter layout, the adapter named ``default`` at its root and each other one in a
subfolder named after it, and ``adapter_stack.json`` lists the active adapters in order. Inference, the train
stage's ``merged/`` and export all load adapter folders through :func:`with_adapters`, so they agree on what
a folder means.

Every transformers load of a recipe's model (``from_pretrained`` of a model, tokenizer or config, vLLM's
``LLM``, lm-eval's ``HFLM``) takes its ``trust_remote_code`` keyword from :func:`remote_code`, so the
recipe's opt-in reaches them all, and a model that ships its own code fails the same clear way everywhere.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from medadapt.errors import ModelError
from medadapt.models.registry import resolve_model
from medadapt.records.jsonl import write_json

ADAPTER_STACK_FILE = "adapter_stack.json"
#: the files whose ``auto_map`` points transformers at Python code shipped beside the weights
CODE_MAPS = ("config.json", "tokenizer_config.json")


def custom_code(source: str) -> str | None:
    """Where the model directory ``source`` maps classes to its own code (``auto_map in config.json``), or None
    (no such map, or a hub id: nothing local to read; transformers itself then refuses untrusted code)."""
    directory = Path(source)
    for name in CODE_MAPS:
        file = directory / name
        try:
            mapping = json.loads(file.read_text(encoding="utf-8")).get("auto_map") if file.is_file() else None
        except (OSError, ValueError, AttributeError):
            continue  # unreadable here: transformers' own load says what is wrong with it
        if mapping:
            return f"auto_map in {name}"
    return None


@cache
def _warn_remote_code(source: str) -> None:
    """Once per model and process (the main one of a multi-process launch)."""
    from rich.console import Console

    from medadapt.runs.processes import is_main

    if is_main():
        Console(stderr=True).print(
            f"[yellow]warning: trust_remote_code: true runs the Python code shipped with {source}; read it "
            "first, it runs with your permissions[/yellow]", highlight=False, soft_wrap=True)


def remote_code(source: str, trust: bool) -> dict[str, bool]:
    """The ``trust_remote_code`` keyword of every load of ``source`` (a resolved model reference): the recipe's
    opt-in, with a warning; without it, a model with its own code is a one-line error naming the recipe key
    (transformers would otherwise ask on a terminal, or fail with a traceback)."""
    if trust:
        _warn_remote_code(source)
    elif where := custom_code(source):
        raise ModelError(f"the model ships its own Python code ({where}); set trust_remote_code: true in the "
                         "recipe to run it (read that code first)", field=f"model {source}")
    return {"trust_remote_code": trust}


def inference_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def stacked_adapter_names(adapter: Path) -> list[str]:
    """The adapters saved in ``adapter`` that are active together, in order; ``default`` alone without a stack file."""
    stack = adapter / ADAPTER_STACK_FILE
    return json.loads(stack.read_text(encoding="utf-8")) if stack.is_file() else ["default"]


def write_adapter_stack(adapter: Path, names: list[str]) -> None:
    """Record that the adapters saved in ``adapter`` (PEFT's layout) are active together, in this order."""
    write_json(adapter / ADAPTER_STACK_FILE, names, indent=None, ensure_ascii=True)


def with_adapters(model: Any, adapter: Path) -> Any:
    """``model`` wrapped by PEFT with every adapter of the ``adapter`` folder loaded, frozen and active, in the
    saved order (PEFT applies and merges active adapters in that order)."""
    from peft import PeftModel

    names = stacked_adapter_names(adapter)
    folders = {name: str(adapter if name == "default" else adapter / name) for name in names}
    peft_model = PeftModel.from_pretrained(model, folders[names[0]], adapter_name=names[0])
    for name in names[1:]:
        peft_model.load_adapter(folders[name], adapter_name=name)
    peft_model.base_model.set_adapter(names, inference_mode=True)
    return peft_model


def load_for_inference(reference: str, adapter: Path | None = None,
                       trust_remote_code: bool = False) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode. The adapter (every adapter of a stack) is merged into the base for speed.
    ``trust_remote_code``: the recipe's key (see :func:`remote_code`)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model(reference)
    device = inference_device()
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    trust = remote_code(source, trust_remote_code)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(adapter) if adapter else source, **trust)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **trust)
    except OSError as exc:
        raise ModelError(f"cannot load: {str(exc).splitlines()[0]}", field=f"model {reference}") from None
    if adapter is not None:
        if not (adapter / "adapter_config.json").is_file():
            raise ModelError("no adapter_config.json: not a PEFT adapter", file=str(adapter))
        model = with_adapters(model, adapter).merge_and_unload()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer
