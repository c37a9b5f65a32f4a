"""``medadapt train RECIPE``: run the road up to the train stage, plan it (--dry-run) or resume it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def train_command(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file (with a train: section).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print parameters, tokens, steps and memory; train nothing.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint of an interrupted run.")] = False,
    launch: Annotated[bool, typer.Option("--launch", help="Print the `accelerate launch` command for train.distributed.")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Folder that holds run directories.")] = Path("runs"),
) -> None:
    """Train: stage 1 (continued pretraining) and/or stage 2 (SFT), merge; the stages before it run first."""
    from medadapt.errors import RecipeError
    from medadapt.recipe import load_recipe_for

    parsed = load_recipe_for(recipe, "train")
    if dry_run:
        print_plan(parsed, recipe.resolve().parent, runs_dir / parsed.name)
    elif launch:
        from medadapt.train.arguments import launch_command

        if parsed.train.distributed == "none":
            raise RecipeError(str(recipe), ["train.distributed: set zero2, zero3 or fsdp to launch on several GPUs"])
        extra = ["--runs-dir", str(runs_dir)] + (["--resume"] if resume else [])
        console.print(shlex.join(launch_command(parsed.train.distributed, recipe, extra)), soft_wrap=True)
    else:
        from medadapt.runs import run_stages
        from medadapt.stages import stages_for
        from medadapt.train.stage import TrainStage

        road = stages_for(parsed)
        upto = road[: [s.name for s in road].index("train")] + [TrainStage(resume=resume)]
        result = run_stages(upto, parsed, recipe, runs_dir, set(), console)
        console.print(f"Trained: [bold]{result.run.stage_dir('train')}[/bold]")


def print_plan(recipe, recipe_dir: Path, run_root: Path) -> None:
    from medadapt.train.dryrun import plan

    table = Table(title=f"train plan for {recipe.name} ({recipe.model}), nothing loaded")
    for column in ("stage", "method", "trainable / total params", "tokens/epoch", "optimizer steps",
                   "GPU memory (GiB): weights + state + activations = total"):
        table.add_column(column)
    notes = []
    for p in plan(recipe, recipe_dir, run_root):
        memory = p.memory_gib
        table.add_row(
            p.stage, p.method, f"{p.trainable:,} / {p.total:,} ({100 * p.trainable / p.total:.2f} %)",
            f"{p.tokens_per_epoch:,}" if p.tokens_per_epoch is not None else "?",
            str(p.steps) if p.steps is not None else "?",
            f"{memory['weights']} + {memory['trainable_state']} + {memory['activations']} = {memory['total']}",
        )
        notes += [f"{p.stage} trains on {p.trains_on}", f"{p.stage} tokens: {p.token_count}"]
    console.print(table)
    for note in notes:
        console.print(note, soft_wrap=True)
    console.print("Memory: one GPU, unsharded, an estimate (ZeRO/FSDP divide the state across GPUs).")
