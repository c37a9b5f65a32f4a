"""Which script a text is written in: the share of its letters per script (``data/scripts.yaml``).

The safety layer's language guard needs this, not a language classifier: an answer drifting from Persian
into English is visible in its letters long before a classifier is sure, and a script never depends on
which languages a model was trained on.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from medadapt.text.tables import load_yaml


@cache
def _ranges() -> tuple[tuple[int, int, str], ...]:
    return tuple((int(lo), int(hi), script) for script, ranges in load_yaml("scripts.yaml").items()
                 for lo, hi in ranges)


@cache
def char_class(script: str) -> str:
    """A regular-expression character class of every code point ``script`` covers."""
    return "[" + "".join(f"\\U{lo:08X}-\\U{hi:08X}" for lo, hi, name in _ranges() if name == script) + "]"


def script_of(char: str) -> str | None:
    """The script of a letter ('other' when no listed script holds it); None for anything that is not a
    letter."""
    if not unicodedata.category(char).startswith("L"):
        return None
    code = ord(char)
    for lo, hi, script in _ranges():
        if lo <= code <= hi:
            return script
    return "other"


def script_shares(text: str) -> tuple[dict[str, float], int]:
    """Share of letters per script, and the number of letters."""
    counts: dict[str, int] = {}
    for char in text:
        script = script_of(char)
        if script:
            counts[script] = counts.get(script, 0) + 1
    total = sum(counts.values())
    return ({k: v / total for k, v in counts.items()} if total else {}), total
