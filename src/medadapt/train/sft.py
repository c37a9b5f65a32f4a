"""Stage 2: supervised fine-tuning on chat records, loss on assistant tokens only (PEFT + TRL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.train.arguments import extra_callbacks, training_arguments
from medadapt.train.config import SFTStageConfig
from medadapt.train.fit import fit, parameter_counts, save_trained
from medadapt.train.masking import tokenize_chat


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


def sft_arguments(cfg: SFTStageConfig, output_dir: Path, seed: int, precision: str = "fp32", cuda: bool = False,
                  has_dev: bool = False, distributed: str = "none"):
    """TRL's SFTConfig: the shared TrainingArguments plus max length and padding-free batching."""
    from trl import SFTConfig

    return SFTConfig(
        **training_arguments(cfg, output_dir, seed, precision, cuda, has_dev, distributed),
        # examples are already cut at max_length by build_sft_dataset; TRL refuses both with padding_free
        max_length=None if cfg.padding_free else cfg.max_length,
        padding_free=cfg.padding_free,
    )


def train_sft(source: str, tokenizer: Any, train_rows: list[dict], dev_rows: list[dict], cfg: SFTStageConfig,
              out: Path, work: Path, seed: int, resume: bool, distributed: str, precision: str,
              cuda: bool, stacked_on: Path | None = None) -> dict[str, Any]:
    """Train stage 2; checkpoints in ``work``; adapter (or model) and ``rejected.jsonl`` in ``out``. With
    ``stacked_on`` (the stage-1 adapter), the new adapter trains on top of that frozen one and ``out``'s
    adapter folder holds both (see ``medadapt.train.stacking``)."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    from medadapt.data.jsonl import write_jsonl
    from medadapt.train.callbacks import JsonlLogCallback, RichProgressCallback
    from medadapt.train.setup import load_trainable_model
    from medadapt.train.stacking import KeepAdaptersStacked, save_stack

    train_examples, rejected = build_sft_dataset(tokenizer, train_rows, cfg.max_length)
    dev_examples, dev_rejected = build_sft_dataset(tokenizer, dev_rows, cfg.max_length)
    write_jsonl(out / "rejected.jsonl", rejected + dev_rejected)
    has_dev = bool(dev_examples)
    log = work / "log.jsonl"
    trainer = SFTTrainer(
        model=load_trainable_model(source, cfg, precision, cuda, seed, stacked_on),
        args=sft_arguments(cfg, work, seed, precision, cuda, has_dev, distributed),
        train_dataset=Dataset.from_list(train_examples),
        eval_dataset=Dataset.from_list(dev_examples) if has_dev else None,
        processing_class=tokenizer,
        callbacks=[JsonlLogCallback(log), RichProgressCallback("stage 2 SFT"), *extra_callbacks(cfg, has_dev),
                   *([KeepAdaptersStacked()] if stacked_on else [])],
    )
    trainer.remove_callback(PrinterCallback)  # our JSONL log and progress bar replace the printed dicts
    tokens = sum(len(e["input_ids"]) for e in train_examples)
    summary = fit(trainer, work, log, resume, has_dev, tokens / max(1, len(train_examples)))
    adapter = save_trained(trainer, tokenizer, out, full=cfg.method == "full")
    if stacked_on:
        save_stack(adapter)
    trainable, total = parameter_counts(trainer.model)
    return {
        **summary,
        "method": cfg.method,
        "train_examples": len(train_examples),
        "dev_examples": len(dev_examples),
        "rejected": len(rejected) + len(dev_rejected),
        "tokens": tokens,
        "assistant_tokens": sum(sum(e["assistant_masks"]) for e in train_examples),
        "trainable_parameters": trainable,
        "total_parameters": total,
    }
