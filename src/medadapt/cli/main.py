"""The ``medadapt`` command line."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.rich_utils
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from medadapt import __version__
from medadapt.format.cli import data_app
from medadapt.cli.stage_commands import (DataDirOption, PlanOption, ProfileOption, load_for_command, print_plan,
                                         register_stage_commands)
from medadapt.errors import MedadaptError
from medadapt.evaluate.cli import eval_app
from medadapt.serve.cli import chat, export, serve
from medadapt.serve.redflags.cli import safety_app

app = typer.Typer(
    help="medadapt: crawl → curate → generate → format/mix → train → evaluate → chat/serve, from one YAML recipe.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
recipe_app = typer.Typer(help="Check recipes.", no_args_is_help=True)
models_app = typer.Typer(help="List and prepare the embedded models.", no_args_is_help=True)
app.add_typer(recipe_app, name="recipe")
app.add_typer(models_app, name="models")
app.add_typer(eval_app, name="eval")
app.add_typer(safety_app, name="safety")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)
STATE = {"debug": False}

#: ``--help`` tables are the terminal's width, never narrower than this: below it rich cuts the longest
#: option names (``--translator-ke…`` in ``eval mcqa``); tests/cli/test_cli_help.py checks every command at it.
HELP_MIN_WIDTH = 120
if typer.rich_utils.MAX_WIDTH is None:  # the user's TERMINAL_WIDTH wins
    typer.rich_utils.MAX_WIDTH = max(shutil.get_terminal_size((HELP_MIN_WIDTH, 24)).columns, HELP_MIN_WIDTH)


def _version(value: bool) -> None:
    if value:
        console.print(f"medadapt {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    STATE["debug"] = debug


@app.command()
def run(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file.")],
    force: Annotated[Optional[list[str]], typer.Option("--force", help="Redo this stage even if unchanged (repeatable).")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Folder that holds run directories.")] = Path("runs"),
    plan: PlanOption = False,
    profile: ProfileOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run every stage of a recipe into runs/<name>/, skipping those whose inputs and recipe reads are unchanged."""
    from medadapt.runs import plan_stages, run_stages
    from medadapt.runs.processes import is_main
    from medadapt.stages import stages_for

    parsed = load_for_command(recipe, profile, data_dir)
    if plan:
        print_plan(plan_stages(stages_for(parsed), parsed, recipe, runs_dir, set(force or [])), f"plan for {parsed.name}")
        return
    result = run_stages(stages_for(parsed), parsed, recipe, runs_dir, set(force or []), console)
    if not is_main():  # under a multi-process launch the main process reports
        return
    run_root = result.run.root
    table = Table(title=f"run {parsed.name}")
    for column in ("stage", "this run", "seconds (when last run)"):
        table.add_column(column)
    for name, record in result.manifest.stages.items():
        status = "skipped (unchanged)" if name in result.skipped else record.status
        table.add_row(name, status, f"{record.seconds or 0:.1f}")
    console.print(table)
    report = run_root / "report" / "index.html"
    if report.is_file():
        console.print(f"Report: [bold]{report}[/bold]  (and report.md beside it)")
    if (run_root / "train" / "adapter").is_dir():
        console.print(f"Chat with the result: [bold]medadapt chat {run_root}[/bold]")


@recipe_app.command("validate")
def recipe_validate(recipe: Annotated[Path, typer.Argument(help="The recipe YAML file.")],
                    profile: ProfileOption = None, data_dir: DataDirOption = None) -> None:
    """Check a recipe; print every problem as FILE: section.field: message (exit code 2 if any): its structure
    and files, and the language data (prompts, keyword lists, safety packs) its stages need."""
    from medadapt.cli.recipe_checks import language_problems
    from medadapt.errors import RecipeError
    from medadapt.stages import stages_for

    parsed = load_for_command(recipe, profile, data_dir)
    if problems := language_problems(parsed, recipe.parent):
        raise RecipeError(str(recipe), problems)
    sections = [stage.name for stage in stages_for(parsed)]
    console.print(f"[green]✓[/green] {recipe}: valid (run {parsed.name!r}, stages: {', '.join(sections)})")


@recipe_app.command("schema")
def recipe_schema(
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the reference here (e.g. docs/recipe.md) "
                                                "instead of printing it.")] = None,
) -> None:
    """Every recipe key with its type, default and meaning, generated from the schema (docs/recipe.md)."""
    from medadapt.recipe.reference import reference_markdown

    text = reference_markdown()
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"[green]✓[/green] wrote {out}")


@models_app.command("list")
def models_list() -> None:
    """The model aliases a recipe can name, and whether each is installed."""
    import importlib.metadata
    import importlib.util

    from medadapt.models import aliases

    table = Table(title="embedded models")
    for column in ("alias", "installed", "description", "licence", "install with"):
        table.add_column(column, overflow="fold")  # a narrow terminal folds an install command, never cuts it
    for alias in {a.name: a for a in aliases().values()}.values():
        if alias.distribution:
            try:
                importlib.metadata.distribution(alias.distribution)
                installed = True
            except importlib.metadata.PackageNotFoundError:
                installed = False
        else:
            installed = importlib.util.find_spec(alias.assemble_module) is not None
        table.add_row(alias.name, "yes" if installed else "no", *map(escape, (alias.description, alias.licence, alias.install)))
    console.print(table)


@models_app.command("prepare")
def models_prepare(alias: Annotated[str, typer.Argument(help="An alias from `medadapt models list`.")]) -> None:
    """Convert an embedded model into a Hugging Face directory in the cache ($MEDADAPT_HOME), once."""
    from medadapt.models import resolve_model

    console.print(f"[green]✓[/green] {alias}: {resolve_model(alias)}")


# The road's stages, each runnable alone, after `run` in --help; `medadapt data` also holds the record tools.
register_stage_commands(app, {"data": data_app})
for tool in (chat, serve, export):
    app.command()(tool)


def _quiet_libraries() -> None:
    """Our own rich progress bars replace the libraries' per-call tqdm bars and deprecation chatter."""
    import os
    import warnings

    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    warnings.filterwarnings("ignore", message=".*is deprecated and will be removed in v6.*", category=FutureWarning)


def main() -> None:
    """Entry point: one red line and exit code 2 for expected failures; --debug shows the traceback."""
    _quiet_libraries()
    try:
        app(standalone_mode=False)
    except MedadaptError as exc:
        if STATE["debug"]:
            raise
        colour = "red" if exc.exit_code == 2 else "yellow"
        for line in exc.one_line().splitlines():
            err_console.print(f"[{colour}]{exc.label}:[/{colour}] {escape(line)}", markup=True, highlight=False)
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's own usage errors
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
