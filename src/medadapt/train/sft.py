"""Stage 2: LoRA supervised fine-tuning on chat records, loss on assistant tokens only (PEFT + TRL)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from medadapt.data.jsonl import iter_jsonl, write_jsonl
from medadapt.models import resolve_model
from medadapt.models.templates import ChatTemplate, load_chat_template, prepare_chat_tokenizer, template_file
from medadapt.recipe import Recipe
from medadapt.recipe.schema import SFTStageConfig
from medadapt.runs.stage import RunDir, Stage, StageContext
from medadapt.train.masking import tokenize_chat

ADAPTER_DIR = "adapter"


def build_sft_dataset(tokenizer: Any, rows: list[dict[str, Any]], max_length: int) -> tuple[list[dict], list[dict]]:
    """Tokenised examples with assistant masks, and the rows that leave nothing to learn after truncation."""
    examples, rejected = [], []
    for row in rows:
        tokens = tokenize_chat(tokenizer, row["messages"], max_length)
        if 1 not in tokens["assistant_masks"]:
            rejected.append({"id": row["id"], "stage": "train", "step": "tokenize", "field": "messages",
                             "reason": f"no assistant token within max_length={max_length}", "record": row})
            continue
        examples.append(tokens)
    return examples, rejected


def mixed_precision(precision: str, use_cpu: bool) -> dict[str, bool]:
    """TRL defaults to bf16, which on most CPUs is emulated and makes each step ~1.7x slower: decide here."""
    if precision == "auto":
        import torch

        precision = "bf16" if not use_cpu and torch.cuda.is_bf16_supported() else "fp32"
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def sft_arguments(cfg: SFTStageConfig, output_dir: Path, seed: int, use_cpu: bool):
    from trl import SFTConfig

    return SFTConfig(
        **mixed_precision(cfg.precision, use_cpu),
        output_dir=str(output_dir),
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        max_length=cfg.max_length,
        activation_checkpointing=cfg.gradient_checkpointing,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=seed,
        data_seed=seed,
        use_cpu=use_cpu,
        dataloader_pin_memory=not use_cpu,
    )


def lora_config(cfg: SFTStageConfig):
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules,
        task_type="CAUSAL_LM",
    )


def train_sft(
    model: str,
    train_rows: list[dict],
    dev_rows: list[dict],
    cfg: SFTStageConfig,
    out: Path,
    seed: int,
    chat_template: ChatTemplate | None = None,
) -> dict[str, Any]:
    """Train a LoRA adapter on ``model`` (a reference); write ``adapter/``, ``log.jsonl``, ``rejected.jsonl``."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import SFTTrainer

    from medadapt.train.callbacks import JsonlLogCallback, RichProgressCallback

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    model_dir = resolve_model(model)
    tokenizer = prepare_chat_tokenizer(AutoTokenizer.from_pretrained(model_dir), chat_template, model)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)

    train_examples, rejected = build_sft_dataset(tokenizer, train_rows, cfg.max_length)
    dev_examples, dev_rejected = build_sft_dataset(tokenizer, dev_rows, cfg.max_length)
    write_jsonl(out / "rejected.jsonl", rejected + dev_rejected)
    use_cpu = not torch.cuda.is_available()
    trainer = SFTTrainer(
        model=base,
        args=sft_arguments(cfg, out / "checkpoints", seed, use_cpu),
        train_dataset=Dataset.from_list(train_examples),
        eval_dataset=Dataset.from_list(dev_examples) if dev_examples else None,
        processing_class=tokenizer,
        peft_config=lora_config(cfg),
        callbacks=[JsonlLogCallback(out / "log.jsonl"), RichProgressCallback("stage 2 SFT")],
    )
    trainer.remove_callback(PrinterCallback)  # our JSONL log and progress bar replace the printed dicts
    dev_loss_before = trainer.evaluate()["eval_loss"] if dev_examples else None
    result = trainer.train()
    dev_loss_after = trainer.evaluate()["eval_loss"] if dev_examples else None
    trainer.model.save_pretrained(out / ADAPTER_DIR)
    tokenizer.save_pretrained(out / ADAPTER_DIR)
    shutil.rmtree(out / "checkpoints", ignore_errors=True)

    trainable, total = trainer.model.get_nb_trainable_parameters()
    return {
        "steps": result.global_step,
        "train_loss": round(result.training_loss, 4),
        "dev_loss_before": dev_loss_before and round(dev_loss_before, 4),
        "dev_loss_after": dev_loss_after and round(dev_loss_after, 4),
        "train_examples": len(train_examples),
        "dev_examples": len(dev_examples),
        "rejected": len(rejected) + len(dev_rejected),
        "assistant_tokens": sum(sum(e["assistant_masks"]) for e in train_examples),
        "trainable_parameters": trainable,
        "total_parameters": total,
        "seconds": round(result.metrics.get("train_runtime", 0.0), 1),
        "device": "cpu" if use_cpu else "cuda",
    }


class SFTStage(Stage):
    name = "train"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"model": recipe.model, "seed": recipe.seed, "stage2": recipe.train.stage2.model_dump(mode="json")}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        data = run.stage_dir("data")
        paths = {"train": data / "stage2_chat.jsonl", "dev": data / "stage2_chat_dev.jsonl"}
        if recipe.chat_template:
            paths["chat_template"] = template_file(recipe.chat_template, recipe_dir)
        return paths

    def run(self, ctx: StageContext) -> dict[str, Any]:
        paths = self.inputs(ctx.recipe, ctx.recipe_dir, ctx.run)
        template = ctx.recipe.chat_template and load_chat_template(ctx.recipe.chat_template, ctx.recipe_dir)
        summary = train_sft(
            ctx.recipe.model,
            list(iter_jsonl(paths["train"])),
            list(iter_jsonl(paths["dev"])),
            ctx.recipe.train.stage2,
            ctx.out,
            ctx.recipe.seed,
            template or None,
        )
        (ctx.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        ctx.console.print(
            f"{summary['steps']} steps, train loss {summary['train_loss']}, "
            f"dev loss {summary['dev_loss_before']} → {summary['dev_loss_after']}"
        )
        return summary
