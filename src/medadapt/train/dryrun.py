"""``medadapt train RECIPE --dry-run``: parameters, tokens, steps and a GPU-memory estimate, no weights loaded.

The model is built from its config on the meta device (accelerate's ``init_empty_weights``) and wrapped by
PEFT exactly as training would, so the trainable count is PEFT's own. Hub ids are planned from the
config files shipped in ``architectures/`` (hubs are unreachable here); a local model directory is read
directly. Token counts use the model's tokenizer when there is one locally, otherwise characters / 4.
A stage 2 stacked on the stage-1 adapter (``between_stages: stack``) is planned with both adapters in
the model, only stage 2's trainable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt.data.jsonl import iter_jsonl
from medadapt.errors import ModelError
from medadapt.models.registry import aliases, resolve_model
from medadapt.recipe import Recipe
from medadapt.train.config import PretrainStageConfig, StageConfig, TrainSection
from medadapt.train.stage import stage_inputs

ARCHITECTURES = Path(__file__).with_name("architectures")
CHARS_PER_TOKEN = 4  # a rough, language-dependent rate, used only without a tokenizer
GIB = 1024**3


@dataclass
class StagePlan:
    stage: str
    method: str
    trainable: int
    total: int
    tokens_per_epoch: int | None
    token_count: str  # how tokens were counted, or why they are unknown
    steps: int | None
    trains_on: str
    memory_gib: dict[str, float] = field(default_factory=dict)


def shipped_config_file(reference: str) -> Path:
    return ARCHITECTURES / f"{reference.replace('/', '--')}.json"


def model_config(reference: str) -> tuple[Any, str | None]:
    """(config, local directory or None): a shipped config for hub ids, else the local model's own."""
    from transformers import AutoConfig

    shipped = shipped_config_file(reference)
    if shipped.is_file():
        return AutoConfig.from_pretrained(str(shipped)), None
    if reference not in aliases() and not Path(reference).expanduser().is_dir():
        raise ModelError(
            f"no config to plan from: put the model's config.json in {ARCHITECTURES} as {shipped.name}, "
            "or set model: to a local model directory", field=f"model {reference}")
    directory = resolve_model(reference)
    return AutoConfig.from_pretrained(directory), directory


def parameter_counts(config: Any, cfg: StageConfig, stacked_on: StageConfig | None = None) -> tuple[int, int]:
    """(trainable, total) of the model built on the meta device, with PEFT applied as in training (on top of
    the frozen adapter of ``stacked_on``, when given)."""
    from accelerate import init_empty_weights
    from transformers import AutoModelForCausalLM

    from medadapt.train.setup import peft_config

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(config)
    model.tie_weights()  # init_empty_weights skips the tying that loading does (and blocks it inside)
    total = sum(p.numel() for p in model.parameters())
    if cfg.method == "full":
        return total, total
    from peft import get_peft_model

    with init_empty_weights():  # the adapter on meta too: a Mixtral r=128 adapter alone is 7 GB of RAM
        if stacked_on is None:
            return get_peft_model(model, peft_config(cfg)).get_nb_trainable_parameters()
        from medadapt.train.stacking import STAGE1_ADAPTER, STAGE2_ADAPTER, activate_stack

        stacked = get_peft_model(model, peft_config(stacked_on), adapter_name=STAGE1_ADAPTER)
        stacked.add_adapter(STAGE2_ADAPTER, peft_config(cfg))
        activate_stack(stacked)
        return stacked.get_nb_trainable_parameters()


def count_tokens(rows: list[dict[str, Any]], stage: str, tokenizer: Any | None) -> int:
    """Tokens of stage-1 texts (+1 EOS each) or stage-2 chats (rendered by the chat template)."""
    if stage == "stage1":
        if tokenizer is None:
            return sum(math.ceil(len(r["text"]) / CHARS_PER_TOKEN) + 1 for r in rows)
        return sum(len(tokenizer(r["text"], add_special_tokens=False)["input_ids"]) + 1 for r in rows)
    if tokenizer is None:
        return sum(math.ceil(sum(len(m["content"]) for m in r["messages"]) / CHARS_PER_TOKEN) for r in rows)
    return sum(len(tokenizer.apply_chat_template(r["messages"], tokenize=True)) for r in rows)


def optimizer_steps(cfg: StageConfig, examples: int | None) -> int | None:
    if cfg.max_steps:
        return cfg.max_steps
    if examples is None:
        return None
    return math.ceil(math.ceil(examples / cfg.batch_size) / cfg.grad_accum * cfg.epochs)


def memory_estimate(config: Any, cfg: StageConfig, trainable: int, total: int, seq_len: int) -> dict[str, float]:
    """GiB on one GPU, unsharded: weights + trainable state (fp32 weight, grad, Adam m and v) + activations.

    Weights: 2 bytes (bf16/fp16), 4 for full fine-tuning (fp32 master copy), ~0.56 for QLoRA's NF4 with
    double quantisation (embeddings and norms stay 16-bit). Activations follow Korthikanti et al. (2022):
    ~34·s·b·h bytes per layer in 16-bit, or only each layer's input (2·s·b·h) with gradient checkpointing,
    plus fp32 logits and their gradient. ZeRO/FSDP divide the optimizer part by the number of GPUs.
    """
    hidden, layers, vocab = config.hidden_size, config.num_hidden_layers, config.vocab_size
    embeddings = vocab * hidden * (1 if getattr(config, "tie_word_embeddings", False) else 2)
    if cfg.method == "full":
        weights = total * 4
    elif cfg.method == "qlora":
        weights = (total - embeddings) * 0.5625 + embeddings * 2
    else:
        weights = total * 2
    state = trainable * (12 if cfg.method == "full" else 16)  # full: grad + Adam (weights counted above)
    tokens = cfg.batch_size * seq_len
    per_layer = 2 if cfg.gradient_checkpointing else 34
    activations = tokens * hidden * layers * per_layer + tokens * vocab * 4 * 2
    parts = {"weights": weights, "trainable_state": state, "activations": activations}
    parts["total"] = sum(parts.values())
    return {k: round(v / GIB, 2) for k, v in parts.items()}


def trains_on(train: TrainSection, stage: str) -> str:
    """What the stage's weights are trained on top of."""
    if stage == "stage1" or train.stage1 is None:
        return "the base model"
    if train.between_stages == "stack":
        return "the base model + the frozen stage-1 adapter (stacked; merged/ merges both)"
    return "the fully fine-tuned stage-1 model" if train.stage1.method == "full" else "the stage-1-merged model"


def plan(recipe: Recipe, recipe_dir: Path, run_root: Path) -> list[StagePlan]:
    """One plan per configured stage of ``recipe.train``."""
    config, directory = model_config(recipe.model)
    tokenizer = None
    if directory is not None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(directory)
    inputs = stage_inputs(recipe.train, recipe_dir, run_root)
    plans = []
    for stage, cfg, data in (("stage1", recipe.train.stage1, inputs.get("stage1.input")),
                             ("stage2", recipe.train.stage2, inputs.get("stage2.input"))):
        if cfg is None:
            continue
        stacked_on = recipe.train.stage1 if stage == "stage2" and recipe.train.between_stages == "stack" else None
        trainable, total = parameter_counts(config, cfg, stacked_on)
        tokens, how, examples = None, f"unknown: {data} does not exist yet (run the data stage)", None
        if data.is_file():
            rows = list(iter_jsonl(data))
            tokens = count_tokens(rows, stage, tokenizer)
            how = "tokenizer" if tokenizer is not None else f"estimated at {CHARS_PER_TOKEN} characters per token"
            examples = math.ceil(tokens / cfg.block_size) if isinstance(cfg, PretrainStageConfig) else len(rows)
            if isinstance(cfg, PretrainStageConfig):
                examples -= round(examples * cfg.dev_fraction)
        seq_len = cfg.block_size if isinstance(cfg, PretrainStageConfig) else cfg.max_length
        plans.append(StagePlan(stage, cfg.method, trainable, total, tokens, how, optimizer_steps(cfg, examples),
                               trains_on(recipe.train, stage), memory_estimate(config, cfg, trainable, total, seq_len)))
    return plans

