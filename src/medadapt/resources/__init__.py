"""Data shipped inside the package: demo data, prompts, templates.

Recipes refer to these files as ``medadapt://<path>``, to an earlier stage's output as
``run://<stage>/<file>``, to a public dataset in the user's data folder as ``data://<dataset>/<file>``, and to
their own files by a path relative to the recipe's folder; :func:`resolve_path` turns any of these into a
real path.

The data folder holds public datasets medadapt must not ship (their licences differ, some are large): a
paper recipe names ``data://gaokerena/mf3qa/dev.csv`` and each user points at their own copy, with
``--data-dir DIR`` (which sets ``MEDADAPT_DATA``), the ``MEDADAPT_DATA`` variable, or the recipe's
``data_dir`` key, in that order. ``resources/datasets.yaml`` says where each dataset comes from, so a missing
file's error can tell the user where to get it.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from medadapt.errors import DataError

PACKAGE_SCHEME = "medadapt://"
RUN_SCHEME = "run://"
DATA_SCHEME = "data://"
DATA_ENV = "MEDADAPT_DATA"

#: the data folder the last loaded recipe named (its ``data_dir``, made absolute); the variable wins
_recipe_data_dir: list[Path | None] = [None]


def resource_path(relative: str) -> Path:
    """Path of a file shipped under ``medadapt/resources``."""
    return Path(str(resources.files("medadapt").joinpath("resources", relative)))


def use_recipe_data_dir(folder: Path | None) -> None:
    """Remember the loaded recipe's ``data_dir`` (None: it names none) for ``data://`` references."""
    _recipe_data_dir[0] = folder


def data_folder() -> Path:
    """The folder ``data://`` references point into; :class:`DataError` when nothing names one."""
    if value := os.environ.get(DATA_ENV):
        return Path(value).expanduser()
    if _recipe_data_dir[0] is not None:
        return _recipe_data_dir[0]
    raise DataError(f"no data folder: pass --data-dir DIR, set {DATA_ENV}, or give the recipe a data_dir")


@cache
def _dataset_sources() -> dict[str, dict[str, str]]:
    return yaml.safe_load(resource_path("datasets.yaml").read_text(encoding="utf-8"))["datasets"]


def dataset_source(reference: str) -> str | None:
    """Where the public dataset a ``data://<dataset>/…`` reference names comes from, or None if unknown."""
    dataset = reference.removeprefix(DATA_SCHEME).split("/", 1)[0]
    entry = _dataset_sources().get(dataset)
    if entry is None:
        return None
    return f"{entry['name']}: {entry['source']}" + (f", {entry['licence']}" if entry.get("licence") else "")


def missing_data_file(reference: str, folder: Path | None = None) -> str:
    """Why a ``data://`` reference cannot be read: the folder searched (``folder``, else the data folder) and
    where the dataset comes from."""
    try:
        where = f"not in the data folder {folder or data_folder()}"
    except DataError as exc:
        return f"{reference}: {exc.message}"
    source = dataset_source(reference)
    return f"file not found: {reference} ({where}; " + (f"get it from {source})" if source else "a dataset medadapt does not list)")


def resolve_path(reference: str, base_dir: Path | None = None, run_dir: Path | None = None) -> Path:
    """Resolve ``medadapt://demo/qa.jsonl``, ``run://curate/train.jsonl``, ``data://kqa/kqa_en.jsonl`` or a
    (recipe-relative) path."""
    if reference.startswith(PACKAGE_SCHEME):
        return resource_path(reference[len(PACKAGE_SCHEME):])
    if reference.startswith(DATA_SCHEME):
        return data_folder() / reference[len(DATA_SCHEME):]
    if reference.startswith(RUN_SCHEME):
        if run_dir is None:
            raise ValueError(f"{reference}: a run:// reference needs a run directory")
        return run_dir / reference[len(RUN_SCHEME):]
    path = Path(reference).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path
