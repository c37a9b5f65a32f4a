"""The generate stage's own options for ``medadapt generate RECIPE``: a request/cost budget for this session.

Exit code 3 (the budget error's own) when --max-requests/--max-cost stopped it: run again to continue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from medadapt.runs.stage import StageCall


def generate_options(
    recipe: Any, recipe_path: Path, runs_dir: Path,
    max_requests: Annotated[Optional[int], typer.Option(min=0, help="Send at most this many new requests, then "
                                                        "stop cleanly with exit code 3 (cached answers are free).")] = None,
    max_cost: Annotated[Optional[float], typer.Option(min=0, help="Stop sending once this many US dollars are "
                                                      "spent in this session (exit code 3).")] = None,
) -> StageCall:
    from medadapt.errors import RecipeError
    from medadapt.generate.stage import GenerateStage, backend_model
    from medadapt.llm.client import Budget
    from medadapt.llm.pricing import price_for

    if max_cost is not None and price_for(recipe.generate.backend, backend_model(recipe)) is None:
        raise RecipeError(str(recipe_path), [f"generate.backend.price: no price known for model "
                                             f"{backend_model(recipe)!r}, so --max-cost cannot be kept; add one"])
    return StageCall(GenerateStage(Budget(max_requests=max_requests, max_cost=max_cost)))
