"""``medadapt train RECIPE --dry-run``: parameters, tokens, steps and a GPU-memory estimate, no weights loaded.

The model is built from its config on the meta device (accelerate's ``init_empty_weights``) and wrapped by
PEFT exactly as training would, so the trainable count is PEFT's own. Hub ids are planned from the
config files shipped in ``architectures/`` (hubs are unreachable here); a local model directory is read
directly. Token counts use the model's tokenizer when there is one locally, otherwise characters / 4.
A stage 2 stacked on the stage-1 adapter (``between_stages: stack``) is planned with both adapters in
the model, only stage 2's trainable. The dev evaluation's cost is stated too: scoring an uncapped dev split
before and after training can take longer than a short training run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medadapt.records.jsonl import iter_jsonl
from medadapt.errors import ModelError
from medadapt.models.catalog import aliases
from medadapt.models.chat import load_chat_tokenizer, tokenize_chat
from medadapt.models.registry import resolve_model
from medadapt.recipe import Recipe
from medadapt.resources import RUN_SCHEME
from medadapt.train.config import PretrainStageConfig, SFTStageConfig, StageConfig, TrainSection
from medadapt.train.packing import dev_block_count
from medadapt.train.setup import QUANTISED
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
    memory_gib: dict[str, float]
    dev: str  # what dev evaluation costs, in words
    needs: str | None  # the stage that writes the missing input (run://<stage>/…), None when it is there
    settings: list[str]  # the hyper-parameters as a paper's method section states them (see :func:`settings`)


def shipped_config_file(reference: str) -> Path:
    return ARCHITECTURES / f"{reference.replace('/', '--')}.json"


def model_config(reference: str, trust_remote_code: bool = False) -> tuple[Any, str | None]:
    """(config, local directory or None): a shipped config for hub ids, else the local model's own (its code
    run only when the recipe trusts it)."""
    from transformers import AutoConfig

    from medadapt.models.loading import remote_code

    shipped = shipped_config_file(reference)
    if shipped.is_file():
        return AutoConfig.from_pretrained(str(shipped)), None
    if reference not in aliases() and not Path(reference).expanduser().is_dir():
        raise ModelError(
            f"no config to plan from: put the model's config.json in {ARCHITECTURES} as {shipped.name}, "
            "or set model: to a local model directory", field=f"model {reference}")
    directory = resolve_model(reference)
    return AutoConfig.from_pretrained(directory, **remote_code(directory, trust_remote_code)), directory


def parameter_counts(config: Any, cfg: StageConfig, stacked_on: StageConfig | None = None,
                     trust_remote_code: bool = False) -> tuple[int, int]:
    """(trainable, total) of the model built on the meta device, with PEFT applied as in training (on top of
    the frozen adapter of ``stacked_on``, when given)."""
    from accelerate import init_empty_weights
    from transformers import AutoModelForCausalLM

    from medadapt.train.setup import peft_config

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)
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


def row_tokens(row: dict[str, Any], text: bool, tokenizer: Any | None) -> int:
    """Tokens of a text record (+1 EOS; continued pretraining) or a chat (rendered by the chat template)."""
    if text:
        if tokenizer is None:
            return math.ceil(len(row["text"]) / CHARS_PER_TOKEN) + 1
        return len(tokenizer(row["text"], add_special_tokens=False)["input_ids"]) + 1
    if tokenizer is None:
        return math.ceil(sum(len(m["content"]) for m in row["messages"]) / CHARS_PER_TOKEN)
    return len(tokenize_chat(tokenizer, row["messages"])["input_ids"])


def count_tokens(rows: list[dict[str, Any]], text: bool, tokenizer: Any | None, max_length: int | None = None) -> int:
    """Tokens of ``rows`` (text records, or chats each cut at ``max_length`` as training cuts them)."""
    return sum(min(row_tokens(row, text, tokenizer), max_length or math.inf) for row in rows)


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
    elif cfg.method in QUANTISED:
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


@dataclass
class DataCounts:
    """What a stage's data files hold, as far as they exist yet (None: unknown)."""

    how: str  # how tokens were counted, or why they are unknown
    tokens: int | None = None
    examples: int | None = None  # training examples: chats, or blocks not held out
    dev_held_out: int | None = None  # dev chats or held-out blocks
    dev_tokens: int | None = None  # tokens one dev evaluation scores


def scored_count(held_out: int, cfg: StageConfig) -> int:
    """Dev examples one evaluation scores (``medadapt.train.fit.scored_dev`` keeps the first ones)."""
    return held_out if cfg.dev_max_examples is None else min(held_out, cfg.dev_max_examples)


def data_counts(stage: str, cfg: StageConfig, inputs: dict[str, Path], tokenizer: Any | None) -> DataCounts:
    data = inputs[f"{stage}.input"]
    counts = DataCounts(f"unknown: {data} does not exist yet")
    if data.is_file():
        rows = list(iter_jsonl(data))
        text = isinstance(cfg, PretrainStageConfig)
        counts.tokens = count_tokens(rows, text, tokenizer, None if text else cfg.max_length)
        counts.how = "tokenizer" if tokenizer is not None else f"estimated at {CHARS_PER_TOKEN} characters per token"
        counts.examples = len(rows)
        if isinstance(cfg, PretrainStageConfig):
            blocks = math.ceil(counts.tokens / cfg.block_size)
            counts.dev_held_out = dev_block_count(blocks, cfg.dev_fraction)
            counts.examples = blocks - counts.dev_held_out
            counts.dev_tokens = scored_count(counts.dev_held_out, cfg) * cfg.block_size
    dev_file = inputs.get(f"{stage}.dev_input")
    if dev_file is not None and dev_file.is_file():
        dev_rows = list(iter_jsonl(dev_file))
        counts.dev_held_out = len(dev_rows)
        counts.dev_tokens = count_tokens(dev_rows[: cfg.dev_max_examples], False, tokenizer, cfg.max_length)
    return counts


def evaluations(cfg: StageConfig, steps: int | None) -> tuple[int | None, str]:
    """How many dev evaluations a stage runs (None: unknown until the steps are), and when: fit() scores the dev
    split before and after training, and the Trainer every ``eval_steps``."""
    if cfg.eval_steps is None:
        return 2, "before and after training"
    when = f"before and after training and every {cfg.eval_steps} steps"
    return (2 + steps // cfg.eval_steps if steps else None), when


def dev_cost(cfg: StageConfig, counts: DataCounts, steps: int | None) -> str:
    """The dev evaluation's cost: examples scored per evaluation (of how many held out), how many evaluations,
    and the forward passes and tokens they add up to, next to what training itself processes."""
    if isinstance(cfg, PretrainStageConfig) and cfg.dev_fraction == 0:
        return "none (dev_fraction: 0)"
    if isinstance(cfg, SFTStageConfig) and cfg.dev_input is None:
        return "none (dev_input: null)"
    unit = f"blocks of {cfg.block_size} tokens" if isinstance(cfg, PretrainStageConfig) else "chats"
    cap = cfg.dev_max_examples
    limit = "dev_max_examples: null, all" if cap is None else f"dev_max_examples: {cap}"
    count, when = evaluations(cfg, steps)
    if counts.dev_held_out is None:
        return f"{'all' if cap is None else f'up to {cap}'} dev {unit} ({limit}) scored {when}"
    scored = scored_count(counts.dev_held_out, cfg)
    text = f"{scored} of {counts.dev_held_out} dev {unit} scored ({limit}) {when}"
    if count is None:
        return f"{text}, ~{counts.dev_tokens:,} tokens each time"
    training = f"training: {steps} steps × {cfg.batch_size * cfg.grad_accum} examples, forward and backward"
    return (f"{text}: {count} × {scored} = {count * scored:,} forward passes, ~{count * counts.dev_tokens:,} tokens "
            f"({training})")


def settings(cfg: StageConfig) -> list[str]:
    """The stage's hyper-parameters in the order a paper's method section gives them, one group a line, so a
    recipe can be checked against its paper without reading YAML: objective, method and adapter, batch, optimiser
    and schedule, length, memory savers and precision."""
    if isinstance(cfg, PretrainStageConfig):
        objective = f"continued pretraining (packed blocks of {cfg.block_size} tokens)"
    else:
        objective = (f"instruction tuning (chats cut at {cfg.max_length} tokens, loss on assistant turns"
                     f"{', padding-free' if cfg.padding_free else ''})")
    lora = cfg.lora
    if cfg.method == "full":
        method = "full fine-tuning (every weight, fp32 master copy)"
    else:
        targets = lora.target_modules if isinstance(lora.target_modules, str) else ", ".join(lora.target_modules)
        fused = f" + parameters {', '.join(lora.target_parameters)}" if lora.target_parameters else ""
        method = f"{cfg.method}: r {lora.r}, alpha {lora.alpha}, dropout {lora.dropout}, targets {targets}{fused}"
    length = f"{cfg.max_steps} steps (max_steps)" if cfg.max_steps else f"{cfg.epochs:g} epochs"
    warmup = f"{cfg.warmup_steps} steps" if cfg.warmup_steps is not None else f"ratio {cfg.warmup_ratio:g}"
    quantised = ("4-bit NF4 base, double quantisation (bitsandbytes, CUDA)" if cfg.method in QUANTISED
                 else "none")
    return [
        f"objective: {objective}",
        f"method: {method}",
        f"batch: {cfg.batch_size} per device × {cfg.grad_accum} accumulation = {cfg.batch_size * cfg.grad_accum} "
        "per optimizer step on each GPU",
        f"optimizer: AdamW, lr {cfg.learning_rate:g}, {cfg.lr_scheduler} schedule, warmup {warmup}, weight decay "
        f"{cfg.weight_decay:g}, max grad norm {cfg.max_grad_norm:g}",
        f"length: {length}",
        f"memory: gradient checkpointing {'on' if cfg.gradient_checkpointing else 'off'}, quantisation {quantised}, "
        f"precision {cfg.precision}",
    ]


def producing_stage(reference: str) -> str | None:
    """The stage that writes a ``run://<stage>/…`` input (None for the user's own files)."""
    return reference[len(RUN_SCHEME):].split("/", 1)[0] if reference.startswith(RUN_SCHEME) else None


def plan(recipe: Recipe, recipe_dir: Path, run_root: Path) -> list[StagePlan]:
    """One plan per configured stage of ``recipe.train``."""
    trust = recipe.trust_remote_code
    config, directory = model_config(recipe.model, trust)
    # the tokenizer as training renders chats (the recipe's template installed), when the model is local
    tokenizer = load_chat_tokenizer(recipe.model, recipe.chat_template, recipe_dir, trust) if directory else None
    inputs = stage_inputs(recipe.train, recipe_dir, run_root)
    references = dict(recipe.train.input_references())
    plans = []
    for stage, cfg in (("stage1", recipe.train.stage1), ("stage2", recipe.train.stage2)):
        if cfg is None:
            continue
        stacked_on = recipe.train.stage1 if stage == "stage2" and recipe.train.between_stages == "stack" else None
        trainable, total = parameter_counts(config, cfg, stacked_on, trust)
        counts = data_counts(stage, cfg, inputs, tokenizer)
        steps = optimizer_steps(cfg, counts.examples)
        needs = producing_stage(references[f"{stage}.input"]) if counts.tokens is None else None
        seq_len = cfg.block_size if isinstance(cfg, PretrainStageConfig) else cfg.max_length
        plans.append(StagePlan(stage, cfg.method, trainable, total, counts.tokens, counts.how, steps,
                               trains_on(recipe.train, stage), memory_estimate(config, cfg, trainable, total, seq_len),
                               dev_cost(cfg, counts, steps), needs, settings(cfg)))
    return plans
