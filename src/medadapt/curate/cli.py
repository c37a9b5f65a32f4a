"""``medadapt curate RECIPE``: only the curate stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def curate_command(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file (with a curate: section).")],
    force: Annotated[bool, typer.Option("--force", help="Redo curation even if inputs and config are unchanged.")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Folder that holds run directories.")] = Path("runs"),
) -> None:
    """Run only the curate stage: normalise, language ID, dedup, filters, PII, decontamination, splits."""
    from medadapt.curate.stage import CurateStage
    from medadapt.recipe import load_recipe_for
    from medadapt.runs import run_stages

    parsed = load_recipe_for(recipe, "curate")
    result = run_stages([CurateStage()], parsed, recipe, runs_dir, {"curate"} if force else set(), console)
    console.print(f"Curated data: [bold]{result.run.stage_dir('curate')}[/bold]")
