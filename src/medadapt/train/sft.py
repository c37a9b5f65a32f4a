"""Supervised fine-tuning on chat records, loss on assistant tokens only (PEFT + TRL): stage 2, and stage 1
when its objective is sft (instruction tuning)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from medadapt.errors import DataError
from medadapt.models.chat import tokenize_chat
from medadapt.records.quarantine import rejection
from medadapt.runs.processes import is_main
from medadapt.train.arguments import extra_callbacks, training_arguments
from medadapt.train.config import SFTStageConfig
from medadapt.train.fit import fit, parameter_counts, save_trained, scored_dev
from medadapt.train.labelled_head import project_labelled_only


def build_sft_dataset(tokenizer: Any, rows: list[dict[str, Any]], max_length: int,
                      file: str = "") -> tuple[list[dict], list[dict]]:
    """Tokenised examples with assistant masks, and the rows of ``file`` that leave nothing to learn after
    truncation."""
    examples, rejected = [], []
    for row in rows:
        tokens = tokenize_chat(tokenizer, row["messages"], max_length)
        if 1 not in tokens["assistant_masks"]:
            rejected.append(rejection(file, None, "messages", f"no assistant token within max_length={max_length}", row,
                                      stage="train", step="tokenize", rule="no_assistant_token"))
            continue
        examples.append(tokens)
    return examples, rejected


def checked_sft_dataset(tokenizer: Any, rows: list[dict[str, Any]], cfg: SFTStageConfig, file: Path,
                        console: Console, dev: bool = False, stage: str = "stage2") -> tuple[list[dict], list[dict]]:
    """:func:`build_sft_dataset`, then say what it dropped: a partial loss as a console line with the fix, more
    than ``max_dropped_fraction`` of ``file`` (or every training chat) as a one-line :class:`DataError` before any
    model loads. ``dev``: the dev chats, which may be empty (no dev evaluation); ``stage``: whose keys the fix
    names (stage1 or stage2)."""
    what = "dev chats" if dev else "chats"
    if not rows and not dev:
        raise DataError("no chats to train on", file=str(file), field="messages")
    examples, rejected = build_sft_dataset(tokenizer, rows, cfg.max_length, str(file))
    if not rejected:
        return examples, rejected
    reason = f"no assistant token within max_length={cfg.max_length}"
    lost = f"{len(rejected)} of {len(rows)} {what} dropped ({len(rejected) / len(rows):.0%}): {reason}"
    keys, listed = f"train.{stage}", "train/rejected.jsonl" if stage == "stage2" else "train/stage1/rejected.jsonl"
    if not (examples or dev):
        raise DataError(f"{lost}, none left to train on; raise {keys}.max_length", file=str(file), field="messages")
    if len(rejected) / len(rows) > cfg.max_dropped_fraction:
        raise DataError(f"{lost}; raise {keys}.max_length, or set {keys}.max_dropped_fraction above "
                        f"{cfg.max_dropped_fraction} to accept the loss", file=str(file), field="messages")
    console.print(f"[yellow]{stage.replace('stage', 'stage ')}, {file}: {lost} (listed in {listed}); raise "
                  f"{keys}.max_length to keep them[/yellow]", highlight=False)
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


def train_sft(source: str, tokenizer: Any, train_examples: list[dict], dev_examples: list[dict],
              rejected: list[dict], cfg: SFTStageConfig, out: Path, work: Path, seed: int, resume: bool,
              distributed: str, precision: str, cuda: bool, stacked_on: Path | None = None,
              console: Console | None = None, title: str = "stage 2 SFT",
              trust_remote_code: bool = False) -> dict[str, Any]:
    """Train on the examples of :func:`checked_sft_dataset` (stage 2, or an sft stage 1); checkpoints in
    ``work``; adapter (or model) and ``rejected.jsonl`` (the chats it dropped) in ``out``; progress on
    ``console`` under ``title``; ``trust_remote_code``: the recipe's key. With ``stacked_on`` (the stage-1 adapter), the new adapter trains on top of that
    frozen one and ``out``'s adapter folder holds both (see ``medadapt.train.stacking``)."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    from medadapt.records.jsonl import write_jsonl
    from medadapt.train.callbacks import JsonlLogCallback, RichProgressCallback
    from medadapt.train.setup import load_trainable_model
    from medadapt.train.stacking import KeepAdaptersStacked, save_stack

    if is_main():
        out.mkdir(parents=True, exist_ok=True)  # an sft stage 1 writes into its result folder, not made yet
        write_jsonl(out / "rejected.jsonl", rejected)
    scored, dev = scored_dev(dev_examples, cfg, "chats")
    has_dev = bool(scored)
    log = work / "log.jsonl"
    trainer = SFTTrainer(
        model=load_trainable_model(source, cfg, precision, cuda, seed, stacked_on, trust_remote_code),
        args=sft_arguments(cfg, work, seed, precision, cuda, has_dev, distributed),
        train_dataset=Dataset.from_list(train_examples),
        eval_dataset=Dataset.from_list(scored) if has_dev else None,
        processing_class=tokenizer,
        callbacks=[JsonlLogCallback(log), RichProgressCallback(title, dev, console),
                   *extra_callbacks(cfg, has_dev),
                   *([KeepAdaptersStacked()] if stacked_on else [])],
    )
    trainer.remove_callback(PrinterCallback)  # our JSONL log and progress bar replace the printed dicts
    if not cuda:  # on CUDA, TRL's head already projects only the labelled positions
        project_labelled_only(trainer.model)
    tokens = sum(len(e["input_ids"]) for e in train_examples)
    summary = fit(trainer, work, log, resume, has_dev, tokens / max(1, len(train_examples)))
    adapter = save_trained(trainer, tokenizer, out, full=cfg.method == "full")
    if stacked_on and trainer.args.should_save:
        save_stack(adapter)
    trainable, total = parameter_counts(trainer.model)
    return {
        **summary,
        "method": cfg.method,
        "train_examples": len(train_examples),
        "dev_examples": len(dev_examples),
        "dev_scored": len(scored),
        "rejected": len(rejected),
        "tokens": tokens,
        "assistant_tokens": sum(sum(e["assistant_masks"]) for e in train_examples),
        "trainable_parameters": trainable,
        "total_parameters": total,
    }
