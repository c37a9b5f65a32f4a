"""The train stage's own options for ``medadapt train RECIPE``: plan it (--dry-run), resume it, or print the
command that launches it on several GPUs."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from medadapt.runs.stage import StageCall

console = Console()


def train_options(
    recipe: Any, recipe_path: Path, runs_dir: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print parameters, tokens, steps and memory; train nothing.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint of an interrupted run.")] = False,
    launch: Annotated[bool, typer.Option("--launch", help="Print the `accelerate launch` command for train.distributed.")] = False,
    processes: Annotated[Optional[int], typer.Option("--processes", min=1, help="With --launch: processes (GPUs) per node; default: the config file's 8.")] = None,
) -> StageCall:
    from medadapt.errors import RecipeError
    from medadapt.train.stage import TrainStage

    if dry_run:
        print_dry_run(recipe, recipe_path, runs_dir)
        return StageCall(None)
    if launch:
        from medadapt.train.arguments import launch_command

        if recipe.train.distributed == "none":
            raise RecipeError(str(recipe_path), ["train.distributed: set ddp, zero2, zero3 or fsdp to launch on several GPUs"])
        extra = ["--runs-dir", str(runs_dir)] + (["--resume"] if resume else [])
        console.print(shlex.join(launch_command(recipe.train.distributed, recipe_path, extra, processes)),
                      soft_wrap=True, highlight=False)
        return StageCall(None)
    return StageCall(TrainStage(resume=resume))


def print_dry_run(recipe: Any, recipe_path: Path, runs_dir: Path) -> None:
    """The plan table, then each stage's settings (as its paper states them), what it trains on, how its tokens
    were counted, what its dev evaluation costs, and which command to run first when the data is not there yet."""
    from medadapt.train.dryrun import plan

    table = Table(title=f"train plan for {recipe.name} ({recipe.model}), nothing loaded")
    for column in ("stage", "method", "trainable / total params", "tokens/epoch", "optimizer steps",
                   "GPU memory (GiB): weights + state + activations = total"):
        table.add_column(column)
    notes, waiting_on = [], {}  # the stages whose output is missing, in order
    for p in plan(recipe, recipe_path.resolve().parent, runs_dir / recipe.name):
        memory = p.memory_gib
        unknown = f"after `medadapt {p.needs}`" if p.needs else "input missing"
        table.add_row(
            p.stage, p.method, f"{p.trainable:,} / {p.total:,} ({100 * p.trainable / p.total:.2f} %)",
            f"{p.tokens_per_epoch:,}" if p.tokens_per_epoch is not None else unknown,
            str(p.steps) if p.steps is not None else unknown,
            f"{memory['weights']} + {memory['trainable_state']} + {memory['activations']} = {memory['total']}",
        )
        notes += [f"{p.stage} {line}" for line in p.settings]
        notes += [f"{p.stage} trains on {p.trains_on}", f"{p.stage} tokens: {p.token_count}",
                  f"{p.stage} dev evaluation: {p.dev}"]
        if p.needs:
            waiting_on[p.needs] = None
    console.print(table)
    train = recipe.train
    console.print(f"between stages: {train.between_stages}; multi-GPU: {train.distributed}; merged model: "
                  f"{'yes' if train.merge else 'no'}; trust_remote_code: {str(recipe.trust_remote_code).lower()}",
                  soft_wrap=True, highlight=False)
    for note in notes:
        console.print(note, soft_wrap=True, highlight=False)
    runs = [] if runs_dir == Path("runs") else ["--runs-dir", str(runs_dir)]
    for stage in waiting_on:
        command = shlex.join(["medadapt", stage, str(recipe_path), *runs])
        console.print(f"run `{command}` first for token counts, steps and the dev evaluation's size",
                      soft_wrap=True, highlight=False)
    console.print("Memory: one GPU, unsharded, an estimate (ZeRO/FSDP divide the state across GPUs).")
