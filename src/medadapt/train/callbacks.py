"""Trainer callbacks: a JSONL training log (for the report's loss curve) and rich progress bars for training
and dev evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback


class JsonlLogCallback(TrainerCallback):
    """Append every logged metric dict (loss, lr, grad-norm…) with its step to ``log.jsonl``: from the main
    process only, under a multi-process launch (the Trainer logs the loss averaged over all processes)."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"step": state.global_step, **logs}) + "\n")


class RichProgressCallback(TrainerCallback):
    """The training bar, and a bar for every dev evaluation (before, during and after training) that ends in one
    line: what was scored, the dev loss and how long it took. Scoring a large dev split can take longer than a
    short training run, so it is never silent.

    ``dev`` names what an evaluation scores (e.g. "14 of 14 dev chats")."""

    def __init__(self, description: str, dev: str = "the dev split", console: Console | None = None):
        self.description = description
        self.dev = dev
        self.console = console or Console()
        self.progress: Progress | None = None
        self.task = None
        self.evaluation: tuple[Progress, Any] | None = None  # (its progress, its task) while one runs
        self.trained = False

    def _bar(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=self.console,
        )

    def on_train_begin(self, args, state, control, **kwargs):
        self.progress = self._bar()
        self.progress.start()
        self.task = self.progress.add_task(self.description, total=state.max_steps, status="loss -")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.progress and logs and "loss" in logs:
            self.progress.update(self.task, status=f"loss {logs['loss']:.3f}")

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress:
            self.progress.update(self.task, completed=state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.trained = True
        if self.progress:
            self.progress.stop()
            self.progress = None

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        if self.evaluation is None:
            progress = self.progress or self._bar()  # outside training: a bar of its own
            if progress is not self.progress:
                progress.start()
            total = len(eval_dataloader) if eval_dataloader is not None else None
            task = progress.add_task(f"{self.description} dev loss", total=total, status="batches")
            self.evaluation = (progress, task)
        progress, task = self.evaluation
        progress.advance(task)

    def on_evaluate(self, args, state, control, metrics, **kwargs):
        if self.evaluation is None:
            return
        progress, task = self.evaluation
        self.evaluation = None
        progress.remove_task(task)
        if progress is not self.progress:
            progress.stop()
        when = "after training" if self.trained else f"at step {state.global_step}" if state.global_step else \
            "before training"
        progress.console.print(f"{self.description}: dev loss {metrics['eval_loss']:.4f} {when} on {self.dev}, "
                               f"{metrics['eval_runtime']:.1f} s", highlight=False, soft_wrap=True)
