"""Data shipped inside the package: demo data, prompts, templates.

Recipes refer to these files as ``medadapt://<path>``; :func:`resolve_path` turns such a reference, or a
path relative to the recipe's folder, into a real path.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE_SCHEME = "medadapt://"


def resource_path(relative: str) -> Path:
    """Path of a file shipped under ``medadapt/resources``."""
    return Path(str(resources.files("medadapt").joinpath("resources", relative)))


def resolve_path(reference: str, base_dir: Path | None = None) -> Path:
    """Resolve ``medadapt://demo/qa.jsonl`` or a (recipe-relative) filesystem path."""
    if reference.startswith(PACKAGE_SCHEME):
        return resource_path(reference[len(PACKAGE_SCHEME):])
    path = Path(reference).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path
