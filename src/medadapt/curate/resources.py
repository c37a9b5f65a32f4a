"""Read the data files shipped in ``curate/data`` (tables, keyword lists, PII patterns, presets)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("data")


@cache
def load_yaml(relative: str) -> Any:
    return yaml.safe_load((DATA / relative).read_text(encoding="utf-8"))


def read_term_list(path: Path) -> list[str]:
    """One term a line; blank lines and ``#`` comments ignored; order kept, duplicates dropped."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip()
        if term:
            terms.append(term)
    return list(dict.fromkeys(terms))
