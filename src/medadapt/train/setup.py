"""Model, precision and PEFT set-up for a training stage, from the recipe's method and LoRA options.

Everything is handed to the libraries made for it: PEFT's ``LoraConfig`` (DoRA is ``use_dora``, MoE
experts are ``target_parameters``), bitsandbytes through transformers' ``BitsAndBytesConfig`` for the 4-bit
base of QLoRA and quantised DoRA (``qdora``: PEFT's DoRA layers accept a bitsandbytes 4-bit base).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.errors import ModelError
from medadapt.train.config import SFTStageConfig, StageConfig

#: methods whose frozen base is loaded in 4-bit (bitsandbytes NF4): their name, and the method to use on a CPU
QUANTISED = {"qlora": ("QLoRA", "lora"), "qdora": ("quantised DoRA", "dora")}


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def choose_precision(precision: str, cuda: bool) -> str:
    """auto → bf16 on GPUs that support it, fp16 on older GPUs, fp32 on CPU (CPU bf16 autocast is slow)."""
    if precision != "auto":
        return precision
    if not cuda:
        return "fp32"
    import torch

    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def mixed_precision(precision: str) -> dict[str, bool]:
    """TrainingArguments flags; both set explicitly because TRL defaults to bf16."""
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def peft_config(cfg: StageConfig):
    """PEFT's LoraConfig for lora / dora / qlora / qdora; None for full fine-tuning."""
    if cfg.method == "full":
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules,
        target_parameters=cfg.lora.target_parameters or None,
        use_dora=cfg.method in ("dora", "qdora"),
        task_type="CAUSAL_LM",
    )


def quantization_config(cfg: StageConfig, cuda: bool, precision: str):
    """The 4-bit NF4 base (double quantisation) of qlora and qdora; a clear error where bitsandbytes cannot run."""
    if cfg.method not in QUANTISED:
        return None
    (name, on_cpu), field = QUANTISED[cfg.method], f"method {cfg.method}"
    if not cuda:
        raise ModelError(f"{name} (4-bit bitsandbytes) needs a CUDA GPU; use method: {on_cpu} on CPU", field=field)
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ModelError(f"{name} needs bitsandbytes: pip install 'medadapt[gpu]'", field=field) from None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if precision == "bf16" else torch.float16,
    )


def load_trainable_model(source: str, cfg: StageConfig, precision: str, cuda: bool, seed: int,
                         stacked_on: Path | None = None, trust_remote_code: bool = False) -> Any:
    """The base model in the right dtype (4-bit for qlora and qdora), wrapped by PEFT unless fine-tuning fully; with
    ``stacked_on`` (a stage-1 adapter), the new adapter is trained on top of that frozen one. Padding-free
    batches get the attention made for packed rows (``medadapt.train.packed_attention``).

    Seeded first: the adapter's random initialisation must be the same in every process (a resumed run
    loads it from the checkpoint, an uninterrupted one keeps it; they must agree).
    """
    import torch
    from transformers import AutoModelForCausalLM, set_seed

    from medadapt.models.loading import remote_code

    set_seed(seed)
    quantization = quantization_config(cfg, cuda, precision)
    # adapters on a GPU: 16-bit frozen base (PEFT keeps adapter weights in fp32); full FT: fp32 master weights
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    if cfg.method == "full":
        dtype = torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, quantization_config=quantization,
                                                     **remote_code(source, trust_remote_code))
    except OSError as exc:
        raise ModelError(f"cannot load: {str(exc).splitlines()[0]}", field=f"model {source}") from None
    if isinstance(cfg, SFTStageConfig) and cfg.padding_free:
        from medadapt.train.packed_attention import use_packed_attention

        use_packed_attention(model)
    if cfg.method == "full":
        return model
    from peft import get_peft_model, prepare_model_for_kbit_training

    if quantization is not None:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
    if stacked_on is not None:
        from medadapt.train.stacking import stacked_model

        return stacked_model(model, stacked_on, peft_config(cfg))
    return get_peft_model(model, peft_config(cfg))
