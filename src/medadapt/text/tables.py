"""Read the text layer's data files (``text/data``): letter table, scripts, languages, normalisation lists."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("data")


@cache
def load_yaml(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def language(lang: str | None) -> dict[str, Any]:
    """The text rules of ``lang`` (``languages.yaml``); an unlisted language gets the defaults (no spelling
    fold, words split at spaces)."""
    return load_yaml("languages.yaml").get(lang, {}) if isinstance(lang, str) else {}
