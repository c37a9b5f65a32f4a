"""What both stages do around ``trainer.train()``: resume from the last checkpoint, keep the JSONL log in
step with it, measure dev loss before and after (on at most ``dev_max_examples`` of the dev split), and save
the adapter (or the full model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.records.jsonl import write_jsonl
from medadapt.runs.processes import is_main
from medadapt.train.config import StageConfig

ADAPTER_DIR = "adapter"
FULL_MODEL_DIR = "model"


def last_checkpoint(checkpoints: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None


def rewind_log(log: Path, step: int) -> list[dict[str, Any]]:
    """Drop log rows written after checkpoint ``step`` (the killed run's lost steps); return the rest.

    Every process reads the log, the main one rewrites it (atomically: a process reading it meanwhile sees the
    old rows or the kept ones, and keeps the same rows of either)."""
    if not log.is_file():
        return []
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [row for row in rows if row["step"] <= step]
    if is_main():
        write_jsonl(log, kept)
    return kept


def scored_dev(held_out: list, cfg: StageConfig, unit: str) -> tuple[list, str]:
    """The dev examples every evaluation scores (the first ``dev_max_examples``, or all), and how many of how
    many held out, in words for the console ("14 of 14 dev chats")."""
    scored = held_out if cfg.dev_max_examples is None else held_out[: cfg.dev_max_examples]
    return scored, f"{len(scored)} of {len(held_out)} dev {unit}"


def fit(trainer: Any, work: Path, log: Path, resume: bool, has_dev: bool, tokens_per_example: float) -> dict[str, Any]:
    """Train (resuming from ``work``'s last checkpoint when asked and one exists) and return the numbers.

    tokens/s counts the tokens of the examples this process trained on (after a resume: since the resume).
    Under a multi-process launch every process calls it (evaluation and training are collective) and gets the
    same numbers: the Trainer averages the logged loss over the processes.
    """
    checkpoint = last_checkpoint(work) if resume else None
    step = int(Path(checkpoint).name.rsplit("-", 1)[1]) if checkpoint else 0
    if checkpoint:
        kept = rewind_log(log, step)
    else:
        kept = []
        if is_main():
            log.unlink(missing_ok=True)
    before = [row["eval_loss"] for row in kept if row["step"] == 0 and "eval_loss" in row]
    # The dev loss before training is measured inside train() (eval_on_start), after the Trainer has wrapped the
    # model for distributed training: an evaluate() before train() leaves it unwrapped under DDP, and every
    # process then trains alone, its gradients never averaged with the others' (transformers 5.23).
    trainer.args.eval_on_start = has_dev and not before
    result = trainer.train(resume_from_checkpoint=checkpoint)
    if has_dev and not before:
        before = [row["eval_loss"] for row in trainer.state.log_history if "eval_loss" in row][:1]
    dev_loss_before = before[0] if before else None
    dev_loss_after = trainer.evaluate()["eval_loss"] if has_dev else None
    seconds = result.metrics.get("train_runtime", 0.0)
    args = trainer.args
    examples = (result.global_step - step) * args.per_device_train_batch_size * args.gradient_accumulation_steps
    return {
        "steps": result.global_step,
        "resumed_from_step": step or None,
        "train_loss": round(result.training_loss, 4),
        "dev_loss_before": dev_loss_before and round(dev_loss_before, 4),
        "dev_loss_after": dev_loss_after and round(dev_loss_after, 4),
        "seconds": round(seconds, 1),
        "tokens_per_second": round(examples * tokens_per_example / seconds) if seconds else None,
    }


def save_trained(trainer: Any, tokenizer: Any, out: Path, full: bool) -> Path:
    """The adapter (PEFT) or, for full fine-tuning, the whole model, with its tokenizer."""
    target = out / (FULL_MODEL_DIR if full else ADAPTER_DIR)
    trainer.save_model(str(target))  # every process: ZeRO-3 / FSDP gather the weights; the main one writes
    if trainer.args.should_save:
        tokenizer.save_pretrained(target)
    return target


def parameter_counts(model: Any) -> tuple[int, int]:
    """(trainable, total), PEFT's own count when there is an adapter."""
    if hasattr(model, "get_nb_trainable_parameters"):
        return model.get_nb_trainable_parameters()
    return sum(p.numel() for p in model.parameters() if p.requires_grad), sum(p.numel() for p in model.parameters())
