"""Where the CEO's shared data lies in every session and in CI: ../shared beside the repository."""

import re
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"


def data_references(recipe: Path) -> list[str]:
    """The ``data://`` files a recipe file names (its profiles' too)."""
    return sorted(set(re.findall(r"data://[\w./-]+", recipe.read_text(encoding="utf-8"))))


def use_shared_data(recipe: Path, monkeypatch) -> None:
    """Point ``MEDADAPT_DATA`` at ../shared/data for a recipe that reads public datasets from the data folder;
    skip, naming what is missing, when the folder does not hold them all (a recipe's loader checks them)."""
    import pytest

    references = data_references(recipe)
    missing = [r for r in references if not (DATA / r.removeprefix("data://")).exists()]
    if missing:
        pytest.skip(f"{recipe.name} reads {len(missing)} file(s) not in {DATA}, e.g. {missing[0]}")
    if references:
        monkeypatch.setenv("MEDADAPT_DATA", str(DATA))
