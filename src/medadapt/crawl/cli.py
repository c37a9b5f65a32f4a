"""``medadapt crawl RECIPE``: only the crawl stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def crawl_command(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file (with a crawl: section).")],
    re_extract: Annotated[bool, typer.Option("--re-extract", help="Extract again from the stored WARC; fetch nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Run the stage even if unchanged (it resumes its frontier).")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Folder that holds run directories.")] = Path("runs"),
) -> None:
    """Run only the crawl stage: polite, resumable crawl of the recipe's sites (kill it any time; rerun resumes)."""
    from medadapt.crawl.stage import CrawlStage
    from medadapt.recipe import load_recipe_for
    from medadapt.runs import run_stages

    parsed = load_recipe_for(recipe, "crawl")
    result = run_stages([CrawlStage(re_extract=re_extract)], parsed, recipe, runs_dir,
                        {"crawl"} if force or re_extract else set(), console)
    console.print(f"Crawled data: [bold]{result.run.stage_dir('crawl')}[/bold]")
