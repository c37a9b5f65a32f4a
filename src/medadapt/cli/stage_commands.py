"""``medadapt <stage> RECIPE`` for every stage of the road, generated from it, with one set of options.

A stage command runs that one stage, after checking that its inputs exist: it never runs the stages before
it (``medadapt run RECIPE`` does the road). Every stage command takes ``--force``, ``--plan`` and
``--runs-dir``; a stage adds its own options through a function in its package's ``cli.py`` (see
:data:`STAGE_OPTIONS`), which receives the recipe and returns the :class:`~medadapt.runs.stage.StageCall`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from medadapt.runs.stage import StageCall

console = Console()

RecipeArg = Annotated[Path, typer.Argument(help="The recipe YAML file.")]
RunsDirOption = Annotated[Path, typer.Option(help="Folder that holds run directories.")]
PlanOption = Annotated[bool, typer.Option("--plan", help="Say what would run and why; run nothing (like make -n).")]
ProfileOption = Annotated[Optional[str], typer.Option(
    "--profile", help="Apply the recipe's profile NAME (e.g. smoke: the same stages at CPU size); runs as <name>-NAME.")]
DataDirOption = Annotated[Optional[Path], typer.Option(
    "--data-dir", help="Folder of public datasets that data:// references point into (sets MEDADAPT_DATA; "
                       "default: $MEDADAPT_DATA, else the recipe's data_dir).")]


def load_for_command(recipe: Path, profile: str | None, data_dir: Path | None, section: str | None = None) -> Any:
    """The recipe a command runs: ``--data-dir`` exported first (so processes a stage starts see it too), then
    the recipe loaded with its profile; ``section`` must be present when given."""
    from medadapt.recipe import load_recipe, load_recipe_for
    from medadapt.resources import DATA_ENV

    if data_dir is not None:
        os.environ[DATA_ENV] = str(data_dir.expanduser().resolve())
    return load_recipe_for(recipe, section, profile) if section else load_recipe(recipe, profile)


def _stage_options() -> dict[str, Callable[..., StageCall]]:
    """A stage's own options, by stage name: ``(recipe, recipe_path, runs_dir, **options) -> StageCall``."""
    from medadapt.crawl.cli import crawl_options
    from medadapt.generate.cli import generate_options
    from medadapt.train.cli import train_options

    return {"crawl": crawl_options, "generate": generate_options, "train": train_options}


def print_plan(planned: list[Any], title: str) -> None:
    """The ``--plan`` table: each stage, what would happen, and why."""
    table = Table(title=title)
    for column in ("stage", "would", "why"):
        table.add_column(column)
    for entry in planned:
        why = list(entry.reasons)
        if entry.depends_on:
            why.append(f"reads the output of {', '.join(entry.depends_on)}, which runs")
        table.add_row(entry.name, entry.action,
                      "; ".join(why) or "unchanged: the recipe fields it read and its input files are the same")
    console.print(table)


def run_one_stage(name: str, call: StageCall, recipe: Any, recipe_path: Path, runs_dir: Path, force: bool,
                  plan: bool) -> None:
    """Plan or run ``call.stage`` alone; the road is passed so a missing input names the stage that makes it."""
    from medadapt.runs import plan_stages, run_stages
    from medadapt.runs.processes import is_main
    from medadapt.stages import stages_for

    if call.stage is None:
        return
    forced = {name} if force or call.force else set()
    if plan:
        print_plan(plan_stages([call.stage], recipe, recipe_path, runs_dir, forced), f"plan for {recipe.name}: {name}")
        return
    result = run_stages([call.stage], recipe, recipe_path, runs_dir, forced, console, road=stages_for(recipe))
    if is_main():  # one line, not one per process of a multi-process launch
        console.print(f"{name}: [bold]{result.run.stage_dir(name)}[/bold]")


def make_stage_command(name: str, stage_cls: type, options: Callable[..., StageCall] | None) -> Callable[..., None]:
    """The typer command for one stage: the common parameters, then the stage's own options."""
    own = list(inspect.signature(options, eval_str=True).parameters.values())[3:] if options else []

    def command(recipe: Path, force: bool = False, plan: bool = False, runs_dir: Path = Path("runs"),
                profile: str | None = None, data_dir: Path | None = None, **extra: Any) -> None:
        parsed = load_for_command(recipe, profile, data_dir, name)
        call = options(parsed, recipe, runs_dir, **extra) if options else StageCall(stage_cls())
        run_one_stage(name, call, parsed, recipe, runs_dir, force, plan)

    common = [
        inspect.Parameter("recipe", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=RecipeArg),
        inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
            bool, typer.Option("--force", help=f"Redo the {name} stage even if its inputs and the recipe fields it "
                                                "reads are unchanged.")]),
        inspect.Parameter("plan", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=PlanOption),
        inspect.Parameter("runs_dir", inspect.Parameter.KEYWORD_ONLY, default=Path("runs"), annotation=RunsDirOption),
        inspect.Parameter("profile", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ProfileOption),
        inspect.Parameter("data_dir", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DataDirOption),
    ]
    params = common + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__name__ = name
    command.__doc__ = (f"Run only the {name} stage: {stage_cls.summary}\n\nIts inputs must exist; it never runs the "
                       "stages before it (`medadapt run RECIPE` walks the road).")
    return command


class StageOrToolsGroup(typer.core.TyperGroup):
    """``medadapt data RECIPE`` runs the data stage; ``medadapt data convert|inspect …`` are its record tools."""

    STAGE = "stage"

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return self.STAGE, self.commands[self.STAGE], args
        return super().resolve_command(ctx, args)


def register_stage_commands(app: typer.Typer, tool_groups: dict[str, typer.Typer]) -> None:
    """One command per stage of the road; a stage that shares its name with a tool group joins that group."""
    from medadapt.stages import ROAD

    options = _stage_options()
    for name, stage_cls in ROAD:
        command = make_stage_command(name, stage_cls, options.get(name))
        if name in tool_groups:
            group = typer.Typer(cls=StageOrToolsGroup, no_args_is_help=True,
                                help=f"medadapt {name} RECIPE runs the {name} stage ({stage_cls.summary.rstrip('.')}); "
                                     f"the commands below work on files.")
            group.command(StageOrToolsGroup.STAGE, hidden=True)(command)
            group.registered_commands += tool_groups[name].registered_commands
            app.add_typer(group, name=name)
        else:
            app.command(name)(command)
