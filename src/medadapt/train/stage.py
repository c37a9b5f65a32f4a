"""The ``train`` stage: stage 1 (continued pretraining, or instruction tuning with ``objective: sft``) → merge
(or stack) → stage 2 (SFT) → merged model.

Checkpoints live in ``runs/<name>/train-state/`` (``RunDir.state_dir``) (like the crawl's state, outside the stage folder,
which the runner recreates on every attempt), so ``medadapt train RECIPE --resume`` continues after a crash:
a finished stage 1 is reused, an unfinished stage resumes from its last checkpoint with the log rewound to it.
The chats of every SFT stage (stage 2, and an sft stage 1) are tokenised and checked first, so a file that
loses too many of them to ``max_length`` fails before stage 1 spends its time
(``medadapt.train.sft.checked_sft_dataset``). An sft stage 1 trains exactly as stage 2 does
(``medadapt.train.sft.train_sft``), then is merged or stacked like a pretraining one.

Written to ``train/``: ``adapter/`` (the last stage's adapter; ``model/`` for full fine-tuning),
``log.jsonl``, ``summary.json``, ``rejected.jsonl``, ``merged/`` (base + every adapter, ready to load), and
for stage 1 ``stage1/adapter/``, ``stage1/log.jsonl``, ``stage1/summary.json``; for the report ``report.json``,
``loss.png`` and ``stage1-loss.png`` (``train.report``). With
``between_stages: stack``, ``adapter/`` also holds the frozen stage-1 adapter it was trained on top of
(``adapter/stage1/``), and loaders apply both.

Under ``accelerate launch`` / ``torchrun`` every process runs this stage (``every_process``) and trains its
share of each batch (data parallel, ZeRO or FSDP, as ``train.distributed`` says); the main process alone
writes: the state folder, the logs, summaries, merges and the report (``medadapt.runs.processes``), and the
others wait for it where they read what it wrote (stage 2 trains on the model stage 1's merge made).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from medadapt.records.jsonl import iter_jsonl, write_json
from medadapt.errors import DataError
from medadapt.models import resolve_model
from medadapt.models.chat import load_chat_tokenizer
from medadapt.models.templates import template_file
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.processes import is_main, on_main
from medadapt.runs.stage import RunDir, Stage, StageContext
from medadapt.train.config import SFTStageConfig, StageConfig, TrainSection
from medadapt.train.fit import ADAPTER_DIR, FULL_MODEL_DIR
from medadapt.models.merge import merge_to_dir, save_model_dir
from medadapt.train.report import write_report

MERGED_DIR = "merged"


def checkpoint_root(run: RunDir) -> Path:
    return run.state_dir("train")


def stage_inputs(train: TrainSection, recipe_dir: Path, run_root: Path) -> dict[str, Path]:
    """The data files each configured stage reads (``stage1.input`` …), resolved from the recipe's references."""
    return {place: resolve_path(reference, recipe_dir, run_root) for place, reference in train.input_references()}


class TrainStage(Stage):
    name = "train"
    summary = "stage 1 (continued pretraining or instruction tuning) and/or stage 2 (SFT), merge."
    version = "2"
    every_process = True

    def __init__(self, resume: bool = False):
        self.resume = resume


    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        paths = stage_inputs(recipe.train, recipe_dir, run.root)
        if recipe.chat_template:
            paths["chat_template"] = template_file(recipe.chat_template, recipe_dir)
        return paths

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from medadapt.train.setup import has_cuda

        recipe, train = ctx.recipe, ctx.recipe.train
        work = checkpoint_root(ctx.run)
        on_main(lambda: self._fresh_state(work))
        cuda = has_cuda()
        paths = stage_inputs(train, ctx.recipe_dir, ctx.run.root)
        source = resolve_model(recipe.model)
        tokenizer = load_chat_tokenizer(recipe.model, recipe.chat_template, ctx.recipe_dir, recipe.trust_remote_code)
        summary: dict[str, Any] = {"device": "cuda" if cuda else "cpu"}
        # every SFT stage's chats are refused (or accepted) before stage 1 runs
        chats = self._chats(ctx, tokenizer, paths, "stage2") if train.stage2 else None
        stage1_chats = self._chats(ctx, tokenizer, paths, "stage1") if isinstance(train.stage1, SFTStageConfig) else None

        stacked_on = None
        if train.stage1:
            summary["stage1"], stage1_model = self._stage1(ctx, source, tokenizer, paths["stage1.input"], stage1_chats,
                                                           work, cuda)
            last = (train.stage1, source, ctx.out / "stage1")
            if train.between_stages == "stack":
                stacked_on = ctx.out / "stage1" / ADAPTER_DIR
            else:
                source = stage1_model
        if train.stage2:
            summary.update(self._stage2(ctx, source, stacked_on, tokenizer, chats, work, cuda))
            last = (train.stage2, source, ctx.out)
        summary = on_main(lambda: self._finish(ctx, summary, last, tokenizer, work, cuda))
        return {k: summary.get(k) for k in ("steps", "train_loss", "dev_loss_before", "dev_loss_after", "merged")}

    def _fresh_state(self, work: Path) -> None:
        """The checkpoint folder: kept for --resume, emptied otherwise."""
        if not self.resume:
            shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)

    def _finish(self, ctx: StageContext, summary: dict[str, Any], last: tuple[StageConfig, str, Path], tokenizer: Any,
                work: Path, cuda: bool) -> dict[str, Any]:
        """The merged model, summary.json and the report; the checkpoints go. Returns the whole summary."""
        if not ctx.recipe.train.stage2:  # the report and evaluate read the top level: there, the last stage is stage 1
            summary.update(summary["stage1"])
            shutil.copyfile(ctx.out / "stage1" / "log.jsonl", ctx.out / "log.jsonl")
            if (ctx.out / "stage1" / ADAPTER_DIR).is_dir():
                shutil.copytree(ctx.out / "stage1" / ADAPTER_DIR, ctx.out / ADAPTER_DIR)
        summary["merged"] = _final_model(*last, tokenizer, ctx.out, ctx.recipe.train.merge, cuda,
                                         ctx.recipe.trust_remote_code)
        write_json(ctx.out / "summary.json", summary, ensure_ascii=True)
        write_report(ctx.out)
        shutil.rmtree(work, ignore_errors=True)
        ctx.console.print(
            f"{summary['steps']} steps, train loss {summary['train_loss']}, "
            f"dev loss {summary['dev_loss_before']} → {summary['dev_loss_after']}"
        )
        return summary

    def _stage1(self, ctx: StageContext, source: str, tokenizer: Any, text_file: Path,
                chats: tuple[list, list, list] | None, work: Path, cuda: bool) -> tuple[dict[str, Any], str | None]:
        """Run (or, on --resume, reuse a finished) stage 1 — on ``chats`` when its objective is sft, else on the
        text records of ``text_file`` — and return its summary and the complete model it made (merged or fully
        fine-tuned; None when stage 2 stacks on its adapter instead)."""
        from medadapt.train.pretrain import train_pretrain
        from medadapt.train.setup import choose_precision
        from medadapt.train.sft import train_sft

        cfg, stage_work = ctx.recipe.train.stage1, work / "stage1"
        result, merged, done = stage_work / "result", stage_work / MERGED_DIR, stage_work / "done.json"
        full, stacking = cfg.method == "full", ctx.recipe.train.between_stages == "stack"
        distributed, seed, trust = ctx.recipe.train.distributed, ctx.recipe.seed, ctx.recipe.trust_remote_code
        if not (self.resume and done.is_file()):
            precision = choose_precision(cfg.precision, cuda)
            _set_threads(cfg)
            if chats is not None:
                stage_summary = train_sft(source, tokenizer, *chats, cfg, result, stage_work, seed, self.resume,
                                          distributed, precision, cuda, console=ctx.console, title="stage 1 SFT",
                                          trust_remote_code=trust)
            else:
                texts = [row["text"] for row in iter_jsonl(text_file)]
                if not texts:
                    raise DataError("no text records for stage 1", file=str(text_file), field="text")
                stage_summary = train_pretrain(source, tokenizer, texts, cfg, result, stage_work, seed, self.resume,
                                               distributed, precision, cuda, ctx.console, trust)
            stage_summary["precision"] = precision
            stage_summary["objective"] = cfg.objective  # the report tells the two kinds of stage 1 apart

            def finish() -> None:
                shutil.copyfile(stage_work / "log.jsonl", result / "log.jsonl")
                write_json(result / "summary.json", stage_summary, ensure_ascii=True)
                if not (full or stacking):
                    merge_to_dir(source, result / ADAPTER_DIR, tokenizer, merged, _dtype(precision), trust)
                write_json(done, stage_summary, indent=None, ensure_ascii=True)

            on_main(finish)  # stage 2 (every process) loads what the merge wrote
        on_main(lambda: shutil.copytree(result, ctx.out / "stage1"))
        stage1_model = None if stacking else str(result / FULL_MODEL_DIR if full else merged)
        return json.loads(done.read_text(encoding="utf-8")), stage1_model

    def _chats(self, ctx: StageContext, tokenizer: Any, paths: dict[str, Path], stage: str) -> tuple[list, list, list]:
        """(train examples, dev examples, rejected rows) of an SFT ``stage`` (stage1 or stage2), each file checked
        for what it drops."""
        from medadapt.train.sft import checked_sft_dataset

        cfg, data, dev_data = getattr(ctx.recipe.train, stage), paths[f"{stage}.input"], paths.get(f"{stage}.dev_input")
        train, rejected = checked_sft_dataset(tokenizer, list(iter_jsonl(data)), cfg, data, ctx.console, stage=stage)
        dev, dev_rejected = [], []
        if dev_data is not None:
            dev, dev_rejected = checked_sft_dataset(tokenizer, list(iter_jsonl(dev_data)), cfg, dev_data, ctx.console,
                                                    dev=True, stage=stage)
        return train, dev, rejected + dev_rejected

    def _stage2(self, ctx: StageContext, source: str, stacked_on: Path | None, tokenizer: Any,
                chats: tuple[list, list, list], work: Path, cuda: bool) -> dict[str, Any]:
        from medadapt.train.setup import choose_precision
        from medadapt.train.sft import train_sft

        cfg = ctx.recipe.train.stage2
        precision = choose_precision(cfg.precision, cuda)
        _set_threads(cfg)
        summary = train_sft(source, tokenizer, *chats, cfg, ctx.out, work / "stage2", ctx.recipe.seed, self.resume,
                            ctx.recipe.train.distributed, precision, cuda, stacked_on, ctx.console,
                            trust_remote_code=ctx.recipe.trust_remote_code)
        if is_main():
            shutil.copyfile(work / "stage2" / "log.jsonl", ctx.out / "log.jsonl")
        return {**summary, "precision": precision}


def _set_threads(cfg: StageConfig) -> None:
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)


def _dtype(precision: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)


def _final_model(cfg: StageConfig, base: str, trained: Path, tokenizer: Any, out: Path, merge: bool,
                 cuda: bool, trust_remote_code: bool) -> str | None:
    """``merged/`` (base + the last adapter, or the last stack of adapters), or ``model/`` after full
    fine-tuning; None when not asked."""
    from medadapt.models.loading import remote_code
    from medadapt.train.setup import choose_precision

    if cfg.method == "full":
        from transformers import AutoModelForCausalLM

        target = out / FULL_MODEL_DIR
        if trained != out:
            shutil.copytree(trained / FULL_MODEL_DIR, target)
        save_model_dir(AutoModelForCausalLM.from_pretrained(target, **remote_code(str(target), trust_remote_code)),
                       tokenizer, target)
        return FULL_MODEL_DIR
    if not merge:
        return None
    merge_to_dir(base, trained / ADAPTER_DIR, tokenizer, out / MERGED_DIR, _dtype(choose_precision(cfg.precision, cuda)),
                 trust_remote_code)
    return MERGED_DIR
