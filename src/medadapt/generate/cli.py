"""``medadapt generate RECIPE``: only the generate stage, with a request/cost budget for this session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

console = Console()

EXIT_BUDGET = 3


def generate_command(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file (with a generate: section).")],
    max_requests: Annotated[Optional[int], typer.Option(min=0, help="Send at most this many new requests, then "
                                                        "stop cleanly (cached answers are free).")] = None,
    max_cost: Annotated[Optional[float], typer.Option(min=0, help="Stop sending once this many US dollars are "
                                                      "spent in this session.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run even if inputs and config are unchanged (answers "
                                        "still come from the cache).")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Folder that holds run directories.")] = Path("runs"),
) -> None:
    """LLM-made data (translate, expand, qa_generate, judge, conversation), cached per request: kill it any
    time, rerun resumes.

    Exit code 3 when --max-requests/--max-cost stopped it (run again to continue)."""
    from medadapt.errors import RecipeError
    from medadapt.generate.client import Budget
    from medadapt.generate.errors import BudgetReached
    from medadapt.generate.pricing import price_for
    from medadapt.generate.stage import GenerateStage, backend_model
    from medadapt.recipe import load_recipe_for
    from medadapt.runs import run_stages

    parsed = load_recipe_for(recipe, "generate")
    if max_cost is not None and price_for(parsed.generate.backend, backend_model(parsed)) is None:
        raise RecipeError(str(recipe), [f"generate.backend.price: no price known for model "
                                        f"{backend_model(parsed)!r}, so --max-cost cannot be kept; add one"])
    stage = GenerateStage(Budget(max_requests=max_requests, max_cost=max_cost))
    try:
        result = run_stages([stage], parsed, recipe, runs_dir, {"generate"} if force else set(), console)
    except BudgetReached as exc:
        console.print(f"[yellow]stopped:[/yellow] {exc.one_line()}", highlight=False)
        raise typer.Exit(EXIT_BUDGET) from None
    console.print(f"Generated data: [bold]{result.run.stage_dir('generate')}[/bold]")
