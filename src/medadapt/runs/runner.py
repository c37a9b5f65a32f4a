"""Run a recipe's stages in order, skipping those whose recipe reads and input files are unchanged.

Whether a stage is current is decided by one function, :func:`reasons_to_run`, for both ``medadapt run``
and ``--plan``: a stage re-runs when it never finished, its code version changed, a recipe field it read
last time has another value now (see :mod:`medadapt.runs.reads`), an input file changed, or its output
folder was edited since.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rich.console import Console

from medadapt.errors import MedadaptError, RunError
from medadapt.recipe import Recipe, recipe_hash
from medadapt.runs.hashing import hash_json, hash_path
from medadapt.runs.manifest import Manifest, StageRecord, now, package_versions
from medadapt.runs.processes import is_main, on_main, share
from medadapt.runs.reads import RecipeReads, changed_paths, tracked
from medadapt.runs.stage import RunDir, Stage, StageContext


def _fingerprint(stage: Stage, reads: dict[str, str], inputs: dict[str, str]) -> str:
    return hash_json({"stage": stage.name, "version": stage.version, "reads": reads, "inputs": inputs})


def _producer(path: Path, run: RunDir, stages: list[Stage]) -> str | None:
    """The stage of this road whose output folder holds ``path`` (a ``run://<stage>/…`` input)."""
    for stage in stages:
        if path.is_relative_to(run.stage_dir(stage.name)):
            return stage.name
    return None


def _hash_inputs(paths: dict[str, Path]) -> dict[str, str | None]:
    """Content hash per input label; None for an input that does not exist (yet)."""
    return {label: hash_path(path) if path.exists() else None for label, path in paths.items()}


def _missing_inputs_error(stage: Stage, paths: dict[str, Path], hashes: dict[str, str | None], run: RunDir,
                          stages: list[Stage], recipe_path: Path) -> RunError:
    missing = [label for label, digest in hashes.items() if digest is None]
    producers = sorted({p for label in missing if (p := _producer(paths[label], run, stages))})
    hint = (f" (made by {', '.join(producers)}: run `medadapt {producers[0]} {recipe_path}` or `medadapt run "
            f"{recipe_path}` first)") if producers else ""
    return RunError(f"stage {stage.name} is missing its inputs: {', '.join(missing)}{hint}")


def reasons_to_run(stage: Stage, record: StageRecord | None, recipe: Recipe, inputs: dict[str, str | None],
                   out: Path) -> list[str]:
    """Why ``stage`` must run; an empty list means its output is current."""
    if record is None:
        return ["never ran"]
    if record.status != "done":
        return [f"last attempt {record.status}"]
    if record.version != stage.version:
        return [f"stage code version {record.version} → {stage.version}"]
    reasons = []
    if changed := changed_paths(recipe, record.reads):
        reasons.append("recipe changed: " + ", ".join(path or "(whole recipe)" for path in changed))
    if changed_inputs := sorted(label for label in inputs.keys() | record.inputs.keys()
                                if inputs.get(label) != record.inputs.get(label)):
        reasons.append("input changed: " + ", ".join(changed_inputs))
    if not out.is_dir():
        reasons.append("output folder missing")
    elif not reasons and hash_path(out) != record.output_hash:
        reasons.append("output folder edited since it ran")
    return reasons


@dataclass
class PlannedStage:
    """One line of ``--plan``: whether the stage runs and why (``depends_on`` lists upstream stages that run)."""

    name: str
    reasons: list[str]
    depends_on: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.reasons:
            return "run"
        return "run if upstream output changes" if self.depends_on else "skip"


@dataclass
class RunResult:
    manifest: Manifest
    run: RunDir
    skipped: list[str]


def _check_force(stages: list[Stage], force: set[str]) -> None:
    unknown = set(force) - {s.name for s in stages}
    if unknown:
        names = ", ".join(s.name for s in stages)
        raise RunError(f"--force names stages not in this recipe: {', '.join(sorted(unknown))} (stages: {names})")


def plan_stages(stages: list[Stage], recipe: Recipe, recipe_path: Path, runs_root: Path,
                force: set[str] = frozenset()) -> list[PlannedStage]:
    """What ``run_stages`` would do, without running anything (``make -n``)."""
    _check_force(stages, force)
    run = RunDir(runs_root / recipe.name)
    manifest = Manifest.load(run.manifest_path, recipe.name)
    recipe_dir = recipe_path.resolve().parent
    planned: list[PlannedStage] = []
    running: set[str] = set()
    for stage in stages:
        paths = stage.inputs(tracked(recipe, RecipeReads()), recipe_dir, run)
        inputs = _hash_inputs(paths)
        upstream = sorted({p for path in paths.values() if (p := _producer(path, run, stages)) in running})
        reasons = ["--force"] if stage.name in force else []
        reasons += reasons_to_run(stage, manifest.stages.get(stage.name), recipe, inputs, run.stage_dir(stage.name))
        if missing := [label for label, digest in inputs.items() if digest is None]:
            reasons.append("input not there yet: " + ", ".join(missing))
        entry = PlannedStage(stage.name, reasons, upstream)
        if entry.action != "skip":
            running.add(stage.name)
        planned.append(entry)
    return planned


def run_stages(
    stages: list[Stage],
    recipe: Recipe,
    recipe_path: Path,
    runs_root: Path,
    force: set[str] = frozenset(),
    console: Console | None = None,
    road: list[Stage] | None = None,
) -> RunResult:
    """Run each stage unless current; ``force`` names stages to redo.

    ``road`` is the recipe's whole road when ``stages`` is a part of it (a stage command), so that a missing
    input can name the stage that makes it.

    Under a multi-process launch (``medadapt.runs.processes``) the main process decides what runs, keeps the
    manifest and the run folder, and runs each stage; the other processes wait for it, joining in only the
    stages that run in every process (``Stage.every_process``: training, sharded evaluation), whose files the
    main process alone writes.
    """
    _check_force(stages, force)
    run = RunDir(runs_root / recipe.name)
    # under a multi-process launch the main process decides, writes and reports; the others stay silent
    console = (console or Console()) if is_main() else Console(quiet=True)
    manifest = on_main(lambda: _open_run(run, recipe, recipe_path))
    recipe_dir = recipe_path.resolve().parent
    skipped: list[str] = []

    for stage in stages:
        reads = RecipeReads()
        view = tracked(recipe, reads)
        paths = stage.inputs(view, recipe_dir, run)
        out, partial = run.stage_dir(stage.name), run.partial_dir(stage.name)
        record = on_main(lambda: _start(stage, paths, manifest, recipe, recipe_path, run, stages, road, force,
                                        console))
        if record is None:
            skipped.append(stage.name)
            continue
        started = time.perf_counter()
        summary = None
        if is_main() or stage.every_process:
            try:
                summary = stage.run(StageContext(view, recipe_dir, run, partial, console))
            except BaseException as exc:
                if is_main():
                    record.status = "failed"
                    record.error = exc.one_line() if isinstance(exc, MedadaptError) else f"{type(exc).__name__}: {exc}"
                    record.ended_at = now()
                    manifest.save(run.manifest_path)
                raise
        on_main(lambda: _finish(stage, record, summary, reads, manifest, run, time.perf_counter() - started, console))
    if not is_main():
        manifest = Manifest.load(run.manifest_path, recipe.name)
    return RunResult(manifest, run, share(skipped))


def _open_run(run: RunDir, recipe: Recipe, recipe_path: Path) -> Manifest:
    """Create the run folder; the manifest with this run's recipe and versions; ``recipe.yaml`` as run."""
    run.root.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.load(run.manifest_path, recipe.name)
    manifest.recipe_file = str(recipe_path.resolve())
    manifest.recipe_hash = recipe_hash(recipe)
    manifest.versions = package_versions()
    run.recipe_path.write_text(
        yaml.safe_dump(recipe.model_dump(mode="json"), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return manifest


def _start(stage: Stage, paths: dict[str, Path], manifest: Manifest, recipe: Recipe, recipe_path: Path, run: RunDir,
           stages: list[Stage], road: list[Stage] | None, force: set[str], console: Console) -> StageRecord | None:
    """The stage's record, marked running, with an empty partial folder to write into; None when it is
    current (skipped). A missing input is an error naming the stage that makes it."""
    inputs = _hash_inputs(paths)
    if any(digest is None for digest in inputs.values()):
        raise _missing_inputs_error(stage, paths, inputs, run, road or stages, recipe_path)
    record = manifest.stages.get(stage.name)
    reasons = reasons_to_run(stage, record, recipe, inputs, run.stage_dir(stage.name))
    if stage.name not in force and not reasons:
        console.print(f"[green]✓[/green] {stage.name}: unchanged since {record.ended_at}, skipped")
        return None
    partial = run.partial_dir(stage.name)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    record = StageRecord(status="running", version=stage.version, inputs=inputs, started_at=now())
    manifest.stages[stage.name] = record
    manifest.save(run.manifest_path)
    console.rule(f"[bold]{stage.name}")
    return record


def _finish(stage: Stage, record: StageRecord, summary: dict | None, reads: RecipeReads, manifest: Manifest,
            run: RunDir, seconds: float, console: Console) -> None:
    """Make the stage's output appear (partial folder renamed) and record it as done."""
    out = run.stage_dir(stage.name)
    shutil.rmtree(out, ignore_errors=True)
    run.partial_dir(stage.name).rename(out)
    record.summary = summary or {}
    record.reads = dict(sorted(reads.paths.items()))
    record.fingerprint = _fingerprint(stage, record.reads, record.inputs)
    record.output_hash = hash_path(out)
    record.status = "done"
    record.ended_at = now()
    record.seconds = round(seconds, 2)
    manifest.save(run.manifest_path)
    console.print(f"[green]✓[/green] {stage.name}: done in {record.seconds:.1f} s → {out}")
