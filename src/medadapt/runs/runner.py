"""Run a recipe's stages in order, skipping those whose inputs and config are unchanged."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console

from medadapt.errors import MedadaptError, RunError
from medadapt.recipe import Recipe, recipe_hash
from medadapt.runs.hashing import hash_json, hash_path
from medadapt.runs.manifest import Manifest, StageRecord, now, package_versions
from medadapt.runs.stage import RunDir, Stage, StageContext


def _fingerprint(stage: Stage, config: dict, inputs: dict[str, str]) -> str:
    return hash_json({"stage": stage.name, "version": stage.version, "config": config, "inputs": inputs})


def _hash_inputs(stage: Stage, paths: dict[str, Path]) -> dict[str, str]:
    missing = [label for label, path in paths.items() if not path.exists()]
    if missing:
        raise RunError(f"stage {stage.name} is missing its inputs: {', '.join(missing)} (run the earlier stages)")
    return {label: hash_path(path) for label, path in paths.items()}


def _is_current(record: StageRecord | None, fingerprint: str, out: Path) -> bool:
    return (
        record is not None
        and record.status == "done"
        and record.fingerprint == fingerprint
        and out.is_dir()
        and hash_path(out) == record.output_hash
    )


@dataclass
class RunResult:
    manifest: Manifest
    run: RunDir
    skipped: list[str]


def run_stages(
    stages: list[Stage],
    recipe: Recipe,
    recipe_path: Path,
    runs_root: Path,
    force: set[str] = frozenset(),
    console: Console | None = None,
) -> RunResult:
    """Run each stage unless current; ``force`` names stages to redo."""
    console = console or Console()
    unknown = set(force) - {s.name for s in stages}
    if unknown:
        names = ", ".join(s.name for s in stages)
        raise RunError(f"--force names stages not in this recipe: {', '.join(sorted(unknown))} (stages: {names})")
    run = RunDir(runs_root / recipe.name)
    run.root.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.load(run.manifest_path, recipe.name)
    manifest.recipe_file = str(recipe_path.resolve())
    manifest.recipe_hash = recipe_hash(recipe)
    manifest.versions = package_versions()
    run.recipe_path.write_text(
        yaml.safe_dump(recipe.model_dump(mode="json"), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    recipe_dir = recipe_path.resolve().parent
    skipped: list[str] = []

    for stage in stages:
        config = stage.config(recipe)
        inputs = _hash_inputs(stage, stage.inputs(recipe, recipe_dir, run))
        fingerprint = _fingerprint(stage, config, inputs)
        out = run.stage_dir(stage.name)
        record = manifest.stages.get(stage.name)
        if stage.name not in force and _is_current(record, fingerprint, out):
            console.print(f"[green]✓[/green] {stage.name}: unchanged since {record.ended_at}, skipped")
            skipped.append(stage.name)
            continue

        partial = run.partial_dir(stage.name)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        record = StageRecord(
            status="running", fingerprint=fingerprint, config_hash=hash_json(config), inputs=inputs, started_at=now()
        )
        manifest.stages[stage.name] = record
        manifest.save(run.manifest_path)
        console.rule(f"[bold]{stage.name}")
        started = time.perf_counter()
        try:
            record.summary = stage.run(StageContext(recipe, recipe_dir, run, partial, console))
        except BaseException as exc:
            record.status = "failed"
            record.error = exc.one_line() if isinstance(exc, MedadaptError) else f"{type(exc).__name__}: {exc}"
            record.ended_at = now()
            manifest.save(run.manifest_path)
            raise
        shutil.rmtree(out, ignore_errors=True)
        partial.rename(out)
        record.output_hash = hash_path(out)
        record.status = "done"
        record.ended_at = now()
        record.seconds = round(time.perf_counter() - started, 2)
        manifest.save(run.manifest_path)
        console.print(f"[green]✓[/green] {stage.name}: done in {record.seconds:.1f} s → {out}")
    return RunResult(manifest, run, skipped)
