"""The stage contract: a named step that reads a recipe section and files, and writes one folder.

Stages never call each other: they meet in the run directory's files. The runner decides whether a stage
must run (inputs or config changed) and makes its output appear atomically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Console

from medadapt.recipe import Recipe
from medadapt.resources import resolve_path


class RunDir:
    """``runs/<name>/``: one folder per stage, ``manifest.json`` and the recipe as run."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def recipe_path(self) -> Path:
        return self.root / "recipe.yaml"

    def stage_dir(self, name: str) -> Path:
        return self.root / name

    def partial_dir(self, name: str) -> Path:
        """Where a stage writes while it runs; renamed to :meth:`stage_dir` only on success."""
        return self.root / f".{name}.partial"

    def state_dir(self, name: str) -> Path:
        """What a resumable stage keeps across attempts (a crawl frontier, a request cache, checkpoints).

        The partial folder is emptied when a stage starts, so work that must survive a kill -9 lives here;
        it is not part of the stage's output hash.
        """
        return self.root / f"{name}-state"


@dataclass
class StageContext:
    recipe: Recipe
    recipe_dir: Path
    run: RunDir
    out: Path
    console: Console

    def resolve(self, reference: str) -> Path:
        """A recipe's file reference (recipe-relative path, medadapt://…, run://<stage>/…) as a path."""
        return resolve_path(reference, self.recipe_dir, self.run.root)


class Stage(ABC):
    """A step of the road. It reads the recipe only through the view it is given (``inputs``' ``recipe`` and
    ``ctx.recipe``): the runner records what it read, so its fingerprint cannot omit a field it uses."""

    name: ClassVar[str]
    #: one line for ``medadapt <name> --help``
    summary: ClassVar[str] = ""
    #: Bump when the stage's output format or algorithm changes, so old outputs are not reused.
    version: ClassVar[str] = "1"
    #: Under a multi-process launch, run in every process (each trains or scores its share), not in the main
    #: one alone while the others wait; such a stage writes files from the main process only.
    every_process: ClassVar[bool] = False

    @abstractmethod
    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        """Files and folders this stage reads, by label; their content is hashed into the fingerprint."""

    @abstractmethod
    def run(self, ctx: StageContext) -> dict[str, Any]:
        """Do the work, writing only under ``ctx.out``; return a small summary for the manifest."""


@dataclass
class StageCall:
    """What a stage command runs: the stage, configured by the command's own options (None when the options
    did the work themselves, e.g. ``train --dry-run``), and whether those options imply ``--force``."""

    stage: Stage | None
    force: bool = False
