"""Stage 1: continued pretraining (causal-LM loss on every token) on packed blocks of text records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from medadapt.train.arguments import extra_callbacks, training_arguments
from medadapt.train.config import PretrainStageConfig
from medadapt.train.fit import fit, parameter_counts, save_trained, scored_dev
from medadapt.train.packing import leading_bos, pack_blocks, split_blocks, token_stream


def block_dataset(blocks: list[list[int]]):
    """Labels are the inputs: the model shifts them itself; padding of the last, short block is -100."""
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": blocks, "labels": blocks})


def train_pretrain(source: str, tokenizer: Any, texts: list[str], cfg: PretrainStageConfig, out: Path, work: Path,
                   seed: int, resume: bool, distributed: str, precision: str, cuda: bool,
                   console: Console | None = None, trust_remote_code: bool = False) -> dict[str, Any]:
    """Train stage 1 on ``texts``; checkpoints in ``work``, adapter (or model) and ``log.jsonl`` in ``out``;
    progress on ``console``; ``trust_remote_code``: the recipe's key."""
    from transformers import DataCollatorForSeq2Seq, PrinterCallback, Trainer, TrainingArguments

    from medadapt.train.callbacks import JsonlLogCallback, RichProgressCallback
    from medadapt.train.setup import load_trainable_model

    stream = token_stream(tokenizer, texts)
    blocks = pack_blocks(stream, cfg.block_size, leading_bos(tokenizer))
    train_blocks, dev_blocks = split_blocks(blocks, cfg.dev_fraction, seed)
    scored, dev = scored_dev(dev_blocks, cfg, f"blocks of {cfg.block_size} tokens")
    model = load_trainable_model(source, cfg, precision, cuda, seed, trust_remote_code=trust_remote_code)
    has_dev = bool(scored)
    log = work / "log.jsonl"
    trainer = Trainer(
        model=model,
        args=TrainingArguments(**training_arguments(cfg, work, seed, precision, cuda, has_dev, distributed)),
        train_dataset=block_dataset(train_blocks),
        eval_dataset=block_dataset(scored) if has_dev else None,
        data_collator=DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100),
        processing_class=tokenizer,
        callbacks=[JsonlLogCallback(log), RichProgressCallback("stage 1 pretraining", dev, console),
                   *extra_callbacks(cfg, has_dev)],
    )
    trainer.remove_callback(PrinterCallback)
    summary = fit(trainer, work, log, resume, has_dev, sum(map(len, train_blocks)) / len(train_blocks))
    save_trained(trainer, tokenizer, out, full=cfg.method == "full")
    trainable, total = parameter_counts(trainer.model)
    return {
        **summary,
        "method": cfg.method,
        "documents": len(texts),
        "tokens": len(stream),
        "train_blocks": len(train_blocks),
        "dev_blocks": len(dev_blocks),
        "dev_scored": len(scored),
        "block_size": cfg.block_size,
        "trainable_parameters": trainable,
        "total_parameters": total,
    }

