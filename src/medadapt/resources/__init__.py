"""Data shipped inside the package: demo data, prompts, templates.

Recipes refer to these files as ``medadapt://<path>``, to an earlier stage's output as
``run://<stage>/<file>``, and to their own files by a path relative to the recipe's folder;
:func:`resolve_path` turns any of these into a real path.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE_SCHEME = "medadapt://"
RUN_SCHEME = "run://"


def resource_path(relative: str) -> Path:
    """Path of a file shipped under ``medadapt/resources``."""
    return Path(str(resources.files("medadapt").joinpath("resources", relative)))


def resolve_path(reference: str, base_dir: Path | None = None, run_dir: Path | None = None) -> Path:
    """Resolve ``medadapt://demo/qa.jsonl``, ``run://curate/train.jsonl`` or a (recipe-relative) path."""
    if reference.startswith(PACKAGE_SCHEME):
        return resource_path(reference[len(PACKAGE_SCHEME):])
    if reference.startswith(RUN_SCHEME):
        if run_dir is None:
            raise ValueError(f"{reference}: a run:// reference needs a run directory")
        return run_dir / reference[len(RUN_SCHEME):]
    path = Path(reference).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path
