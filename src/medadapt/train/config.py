"""The recipe's ``train:`` section: stage 1 (continued pretraining, or instruction tuning), stage 2 (SFT), and
how they run.

Every option maps onto a PEFT / TRL / transformers argument (see ``medadapt.train.setup`` and
``medadapt.train.arguments``); nothing here is re-implemented training logic.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from medadapt.strict import StrictModel


class LoraConfig(StrictModel):
    r: int = Field(8, gt=0, description="LoRA rank: the width of each adapter matrix.")
    alpha: int = Field(16, gt=0, description="LoRA scaling: the update is multiplied by alpha / r.")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="Dropout on the adapter's input during training.")
    target_modules: str | list[str] = Field(
        "all-linear",
        description="'all-linear', a list of module names (q_proj, v_proj…), or one regex string matched against "
        "full module names (e.g. '.*\\.(q_proj|v_proj)$').",
    )
    target_parameters: list[str] = Field(
        default_factory=list,
        description="Fused parameters (PEFT target_parameters), for MoE experts stored as 3-D tensors: with "
        "transformers ≥ 5 Mixtral's experts w1+w3 are 'mlp.experts.gate_up_proj', w2 is 'mlp.experts.down_proj' "
        "and the router is 'mlp.gate.weight'. PEFT needs dropout: 0 for these.",
    )

    @model_validator(mode="after")
    def _parameters_without_dropout(self):
        if self.target_parameters and self.dropout:
            raise ValueError("target_parameters need dropout: 0 (PEFT's ParamWrapper has no dropout)")
        return self


class StageConfig(StrictModel):
    """Hyper-parameters both stages share; each maps onto a TrainingArguments / PEFT field."""

    method: Literal["lora", "dora", "qlora", "qdora", "full"] = Field(
        "lora", description="lora, dora (weight-decomposed LoRA), qlora (LoRA on a 4-bit base), qdora (DoRA on a "
        "4-bit base; MMed-IFT's quantised DoRA), full fine-tuning. qlora and qdora need a CUDA GPU and bitsandbytes."
    )
    lora: LoraConfig = Field(default_factory=LoraConfig, description="Adapter settings (lora, dora, qlora, qdora; "
                             "unused by full).")
    max_steps: int | None = Field(30, gt=0, description="Optimizer steps; null: train for `epochs`.")
    epochs: float = Field(1.0, gt=0, description="Passes over the training data when max_steps is null.")
    batch_size: int = Field(2, gt=0, description="Examples per device per forward pass.")
    grad_accum: int = Field(1, gt=0, description="Forward passes accumulated per optimizer step.")
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate (AdamW).")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = Field(
        "cosine", description="Learning-rate schedule after warm-up.")
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0, description="Share of the steps spent warming the learning rate up.")
    warmup_steps: int | None = Field(
        None, ge=0, description="Optimizer steps spent warming the learning rate up (BiMediX: 10); when set, it "
        "replaces warmup_ratio; null: warmup_ratio.")
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradients are clipped to this norm.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on a GPU that supports it, fp16 on older GPUs, fp32 on CPU."
    )
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory (useful on a GPU).")
    threads: int | None = Field(None, gt=0, description="CPU threads for torch; default: all cores.")
    save_steps: int = Field(50, gt=0, description="Checkpoint every N optimizer steps (for --resume).")
    eval_steps: int | None = Field(None, gt=0, description="Evaluate on the dev split every N steps.")
    dev_max_examples: int | None = Field(
        64, gt=0, description="Dev examples each dev evaluation scores (before and after training, and every "
        "eval_steps): the first N dev chats (stage 2) or held-out blocks (stage 1); null: all. Each is a forward "
        "pass, so an uncapped dev split can take longer than a short training run.",
    )
    early_stopping_patience: int | None = Field(
        None, gt=0, description="Stop after N evaluations without dev-loss improvement (needs eval_steps)."
    )
    report_to: list[Literal["tensorboard", "wandb"]] = Field(default_factory=list, description="Also log to these trackers; log.jsonl is written either way.")

    @model_validator(mode="after")
    def _early_stopping_needs_evaluation(self):
        if self.early_stopping_patience and not self.eval_steps:
            raise ValueError("early_stopping_patience needs eval_steps")
        return self


class PretrainStageConfig(StageConfig):
    """Stage 1: causal-LM loss on every token of ``text`` records packed into ``block_size`` blocks."""

    objective: Literal["pretrain"] = Field(
        "pretrain", description="pretrain: continued pretraining on text records (every token, packed blocks); "
        "sft: instruction tuning on chat records, loss on assistant turns only, with stage 2's keys (MMed-IFT's "
        "stage 1).")
    input: str = Field("run://data/stage1_text.jsonl", description="JSONL of text records (id, source, lang, text).")
    block_size: int = Field(1024, gt=8, description="Tokens per packed training block.")
    dev_fraction: float = Field(0.05, ge=0.0, lt=0.5, description="Share of blocks held out as the dev split.")
    learning_rate: float = Field(5e-4, gt=0, description="Peak learning rate (AdamW).")


class SFTStageConfig(StageConfig):
    """Stage 2: supervised fine-tuning on chats, loss on assistant tokens only."""

    input: str = Field("run://data/stage2_chat.jsonl", description="JSONL of chat records (id, messages).")
    dev_input: str | None = Field("run://data/stage2_chat_dev.jsonl", description="Dev chats; null: none.")
    max_length: int = Field(256, gt=8, description="Tokens a chat is cut at; a chat with no assistant token "
                            "left within it is dropped (train/rejected.jsonl).")
    max_dropped_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="Fail when more than this share of the train (or dev) chats is dropped for "
        "having no assistant token within max_length; a smaller loss is printed. 1: never fail.",
    )
    padding_free: bool = Field(
        False, description="Concatenate each batch into one row without padding (TRL padding_free)."
    )


class InstructionStageConfig(SFTStageConfig):
    """Stage 1 as instruction tuning (``objective: sft``): stage 2's chats-and-assistant-loss training, on its
    own file, before the merge (or stack) stage 2 builds on."""

    objective: Literal["sft"] = Field(description="sft: instruction tuning on chat records (see above).")
    input: str = Field("run://data/stage1_chat.jsonl", description="JSONL of chat records (id, messages): by "
                       "default the chats of the data sources marked `stage: 1`.")
    dev_input: str | None = Field(None, description="Dev chats; null: none (the data stage holds out dev chats "
                                  "for stage 2 only).")


def _stage1_objective(value: Any) -> str:
    """Which stage-1 config a mapping (or a built config) is: ``objective``, pretrain when absent."""
    return value.get("objective", "pretrain") if isinstance(value, dict) else getattr(value, "objective", "pretrain")


#: stage 1: continued pretraining (the default) or instruction tuning, told apart by ``objective``
Stage1Config = Annotated[
    Union[Annotated[PretrainStageConfig, Tag("pretrain")], Annotated[InstructionStageConfig, Tag("sft")]],
    Discriminator(_stage1_objective),
]


class TrainSection(StrictModel):
    stage1: Stage1Config | None = Field(
        None, description="Continued pre-training on text (objective: pretrain) or instruction tuning on chats "
        "(objective: sft); null: skipped.")
    stage2: SFTStageConfig | None = Field(None, description="Supervised fine-tuning on chats; null: skipped.")
    between_stages: Literal["merge", "stack"] = Field(
        "merge", description="How stage 2 builds on stage 1's adapter. merge: merge it into the base and train "
        "stage 2's adapter on the merged model. stack: load the base with the stage-1 adapter frozen and train a "
        "second adapter on top, both active; train/adapter/ holds both (stage 1 in its stage1/ subfolder), and "
        "evaluation, chat, export and train/merged/ apply both."
    )
    merge: bool = Field(
        True, description="Also write train/merged/: the base with every adapter merged (safetensors, tokenizer, "
        "chat template, generation config)."
    )
    distributed: Literal["none", "ddp", "zero2", "zero3", "fsdp"] = Field(
        "none", description="Multi-GPU set-up used under `accelerate launch` (shipped config files, "
        "`medadapt train RECIPE --launch` prints the command): ddp (data parallel, the whole model on every GPU: "
        "LoRA on a model that fits one), zero2 / zero3 (DeepSpeed ZeRO), fsdp (PyTorch FSDP 2)."
    )

    def input_references(self) -> list[tuple[str, str]]:
        """(recipe field, reference) of every data file the configured stages read."""
        references = []
        for stage, cfg in (("stage1", self.stage1), ("stage2", self.stage2)):
            if cfg is None:
                continue
            references.append((f"{stage}.input", cfg.input))
            if isinstance(cfg, SFTStageConfig) and cfg.dev_input:
                references.append((f"{stage}.dev_input", cfg.dev_input))
        return references

    @model_validator(mode="after")
    def _at_least_one_stage(self):
        if self.stage1 is None and self.stage2 is None:
            raise ValueError("train needs stage1, stage2 or both")
        return self

    @model_validator(mode="after")
    def _a_complete_model_is_kept(self):
        """Stage 2's adapter on the stage-1 model (merged or fully fine-tuned) needs train/merged/: that base is
        not kept, and the base + train/adapter/ the loaders would fall back on lacks stage 1."""
        if (self.between_stages == "merge" and self.stage1 and self.stage2 and self.stage2.method != "full"
                and not self.merge):
            raise ValueError("merge: false with stage1 and a stage-2 adapter leaves no complete model (stage 2 "
                             "trains on the stage-1 model, which is not kept); set merge: true or "
                             "between_stages: stack")
        return self

    @model_validator(mode="after")
    def _stack_needs_two_adapters(self):
        if self.between_stages != "stack":
            return self
        if self.stage1 is None or self.stage2 is None:
            raise ValueError("between_stages: stack needs stage1 and stage2")
        if "full" in (self.stage1.method, self.stage2.method):
            raise ValueError("between_stages: stack needs an adapter in both stages (method lora, dora, qlora or "
                             "qdora), not method: full")
        if self.stage1.lora.target_parameters != self.stage2.lora.target_parameters:
            raise ValueError("between_stages: stack needs the same lora.target_parameters in both stages (PEFT: "
                             "stacked adapters on fused parameters must target the same ones)")
        return self
