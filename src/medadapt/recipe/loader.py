"""Read a recipe file and report every problem in it as ``FILE: section.field: message``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from medadapt.records.mapping import reader_problem
from medadapt.errors import DataError, RecipeError
from medadapt.models.templates import shipped_templates, template_file
from medadapt.recipe.profiles import apply_profile
from medadapt.recipe.suggest import did_you_mean
from medadapt.recipe.schema import Recipe
from medadapt.resources import DATA_SCHEME, RUN_SCHEME, missing_data_file, resolve_path, use_recipe_data_dir


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _file_problem(recipe: Recipe, reference: str, base_dir: Path, folders: bool = False) -> str | None:
    """Why an input reference cannot be used, or None. ``run://<stage>/…`` must name a stage of this recipe."""
    if reference.startswith(RUN_SCHEME):
        stage = reference[len(RUN_SCHEME):].split("/", 1)[0]
        if stage not in Recipe.model_fields or getattr(recipe, stage) is None:
            return f"{reference} names no stage of this recipe"
        return None
    if reference.startswith(DATA_SCHEME):
        try:
            path = resolve_path(reference, base_dir)
        except DataError:
            return missing_data_file(reference)
        return None if path.is_file() or (folders and path.is_dir()) else missing_data_file(reference)
    path = resolve_path(reference, base_dir)
    return None if path.is_file() or (folders and path.is_dir()) else f"file not found: {reference}"


def _missing_files(recipe: Recipe, base_dir: Path, sections: set[str] | None = None) -> list[str]:
    """Input files named in the recipe (in ``sections`` only, when given) that do not exist, as problems in the
    recipe's own terms."""
    problems = []

    def checked(section: str) -> bool:
        return getattr(recipe, section) is not None and (sections is None or section in sections)

    if recipe.chat_template and not template_file(recipe.chat_template, base_dir).is_file():
        problems.append(f"chat_template: not a shipped template ({', '.join(shipped_templates())}) nor a file: "
                        f"{recipe.chat_template}")
    if checked("curate"):
        for place, reference in recipe.curate.file_references():
            if problem := _file_problem(recipe, reference, base_dir):
                problems.append(f"curate.{place}: {problem}")
    if checked("data"):
        for place, source in recipe.data.all_sources():
            if problem := _file_problem(recipe, source.path, base_dir, folders=True):
                problems.append(f"data.{place}.path: {problem}")
            if problem := reader_problem(source.reader, base_dir):
                problems.append(f"data.{place}.{'mapping' if source.mapping else 'format'}: {problem}")
    if checked("generate"):
        for i, task in enumerate(recipe.generate.tasks):
            if problem := _file_problem(recipe, task.input, base_dir):
                problems.append(f"generate.tasks.{i}.input: {problem}")
    if checked("train"):
        for place, reference in recipe.train.input_references():
            if problem := _file_problem(recipe, reference, base_dir):
                problems.append(f"train.{place}: {problem}")
    if checked("evaluate"):
        for i, bench in enumerate(recipe.evaluate.benchmarks):
            if problem := _file_problem(recipe, bench.path, base_dir):
                problems.append(f"evaluate.benchmarks.{i}.path: {problem}")
            if problem := reader_problem(bench.format, base_dir):
                problems.append(f"evaluate.benchmarks.{i}.format: {problem}")
    return problems


def _cross_section_problems(recipe: Recipe) -> list[str]:
    problems = []
    if recipe.train and not recipe.data:
        problems.append("train: needs a data section to train on")
    if recipe.data:
        unknown = sorted(set(recipe.data.system_prompt) - set(recipe.languages))
        if unknown:
            problems.append(f"data.system_prompt: languages not in `languages`: {', '.join(unknown)}")
        if recipe.data.mix and (unknown := sorted(set(recipe.data.mix.by_lang) - set(recipe.languages))):
            problems.append(f"data.mix.by_lang: languages not in `languages`: {', '.join(unknown)}")
    return problems


def _problem(err: dict) -> str:
    """One schema error as ``section.field: message``; an unknown key gets the closest allowed one."""
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden" and (match := did_you_mean(tuple(err["loc"]))):
        message += f" (did you mean `{match}`?)"
    return f"{_location(err['loc'])}: {message}"


def _validated(path: Path, profile: str | None = None) -> Recipe:
    """The file's YAML, with ``profile`` applied (see :mod:`medadapt.recipe.profiles`), as a :class:`Recipe`;
    :class:`RecipeError` listing every problem of structure at once."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecipeError(str(path), [f"{where}invalid YAML: {problem}"]) from None
    except UnicodeDecodeError as exc:
        raise RecipeError(str(path), [f"not UTF-8 text: {exc.reason}"]) from None
    except RecursionError:  # PyYAML's parser recurses once per level of nesting
        raise RecipeError(str(path), ["invalid YAML: nested too deeply"]) from None
    if not isinstance(raw, dict):
        raise RecipeError(str(path), ["(top level): expected a mapping of sections, got " + type(raw).__name__])
    raw, problems = apply_profile(raw, profile)
    if problems:
        raise RecipeError(str(path), problems)
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(err) for err in exc.errors()]
        raise RecipeError(str(path), problems) from None
    return recipe


def load_recipe(path: str | Path, profile: str | None = None, sections: set[str] | None = None) -> Recipe:
    """Parse and validate (with ``profile`` applied); raise :class:`RecipeError` listing all problems at once.
    ``sections``: check only their input files (a command that runs one stage needs only that stage's).

    The recipe's ``data_dir`` becomes the folder ``data://`` references point into, unless ``MEDADAPT_DATA``
    names one."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(str(path), ["file not found"])
    recipe = _validated(path, profile)
    use_recipe_data_dir(resolve_path(recipe.data_dir, path.parent).resolve() if recipe.data_dir else None)
    problems = _cross_section_problems(recipe) + _missing_files(recipe, path.parent, sections)
    if problems:
        raise RecipeError(str(path), problems)
    return recipe


def load_run_recipe(run_dir: Path) -> Recipe:
    """The recipe a run saved (``runs/<name>/recipe.yaml``), as chat, serve and export read it: its structure is
    validated, its files are not (their paths are relative to the original recipe's folder, not the run's)."""
    path = run_dir / "recipe.yaml"
    if not path.is_file():
        raise RecipeError(str(path), ["file not found: the run directory has no saved recipe; re-run the recipe"])
    return _validated(path)


def load_recipe_for(path: str | Path, section: str, profile: str | None = None) -> Recipe:
    """A recipe for a command that runs one stage: the stage's section must be there, and its files (those of
    the other stages are their own commands' concern: `medadapt train --dry-run` plans a GPU recipe whose
    benchmarks are not downloaded yet)."""
    recipe = load_recipe(path, profile, {section})
    if getattr(recipe, section) is None:
        raise RecipeError(str(path), [f"{section}: section missing (medadapt {section} needs one)"])
    return recipe


def recipe_hash(recipe: Recipe) -> str:
    """Content hash of the validated recipe (defaults filled in), stable across formatting changes."""
    canonical = json.dumps(recipe.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
