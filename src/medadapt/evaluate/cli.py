"""``medadapt eval …``: every kind of evaluation outside a recipe, one sub-app per kind (multiple choice:
``mcqa``, ``import-lm-eval``, ``compare``; free-form: ``answer``, ``judge``, ``kqa``; ``perplexity``)."""

from __future__ import annotations

import typer

from medadapt.evaluate.freeform.cli import freeform_app
from medadapt.evaluate.mcqa.cli import mcqa_app
from medadapt.evaluate.perplexity.cli import perplexity_app

eval_app = typer.Typer(help="Evaluate a model on benchmark files, and compare results.", no_args_is_help=True)
eval_app.add_typer(mcqa_app)
eval_app.add_typer(freeform_app)
eval_app.add_typer(perplexity_app)
