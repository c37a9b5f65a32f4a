"""Answer keys as datasets write them (1-based, 0-based, a letter, a Persian letter, the option's text) →
the 0-based index that ``mcqa`` records use."""

from __future__ import annotations

import re
from typing import Any, Literal

from medadapt.text.fold import KEYBOARD, fold

AnswerFormat = Literal["one_based", "zero_based", "letter", "persian_letter", "text"]
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The order Persian exams label options: الف، ب، ج، د (then ه، و).
PERSIAN = ["الف", "ب", "ج", "د", "ه", "و"]


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(number)


def _letter(value: Any, keys: list[str] | None) -> int:
    text = str(value).strip().strip("().:").strip()
    lowered = [k.lower() for k in keys] if keys is not None else []
    if keys is not None and text.lower() in lowered:  # options given as a dict: the answer names a key
        return lowered.index(text.lower())
    if len(text) > 1 and all(ch.upper() in LATIN for ch in text):
        raise ValueError(f"{text!r} names several answers; only single-answer questions are supported")
    if keys is not None:
        raise ValueError(f"{text!r} is not one of the option keys {', '.join(keys)}")
    if len(text) != 1 or text.upper() not in LATIN:
        raise ValueError(f"{text!r} is not a letter A-Z")
    return LATIN.index(text.upper())


def _persian_letter(value: Any) -> int:
    # Arabic-keyboard letters (ي ك ى) that Persian text often carries count as their Persian forms
    text = fold(str(value).strip().strip("().:-").strip(), KEYBOARD)
    if text not in PERSIAN:
        raise ValueError(f"{text!r} is not a Persian option letter ({' '.join(PERSIAN)})")
    return PERSIAN.index(text)


def _text(value: Any, choices: list[str]) -> int:
    text = str(value).strip()
    matches = [i for i, choice in enumerate(choices) if choice.strip() == text]
    if len(matches) != 1:
        raise ValueError(f"{text!r} matches {len(matches)} options (expected exactly one)")
    return matches[0]


def answer_index(value: Any, fmt: AnswerFormat, choices: list[str], keys: list[str] | None = None) -> int:
    """The 0-based index of the correct option; ``ValueError`` with a one-line reason otherwise."""
    if value is None or str(value).strip() == "":
        raise ValueError("is empty")
    if fmt == "text":
        return _text(value, choices)
    if fmt == "letter":
        index = _letter(value, keys)
    elif fmt == "persian_letter":
        index = _persian_letter(value)
    else:
        index = _as_int(value) - (1 if fmt == "one_based" else 0)
    if not 0 <= index < len(choices):
        shown = index + 1 if fmt == "one_based" else str(value).strip()
        raise ValueError(f"{shown} is outside the {len(choices)} options ({fmt.replace('_', '-')})")
    return index


def answer_indices(value: Any, fmt: AnswerFormat, choices: list[str], keys: list[str] | None = None) -> list[int]:
    """Every correct option of a question that may have several, ascending: a list of keys (FrenchMedMCQA's
    ``["a", "c"]``), letters run together or separated (CMB's ``ABD``, ``A,C``, ``A、C``), or one answer."""
    if fmt == "letter" and isinstance(value, str) and re.fullmatch(r"\s*[A-Za-z](?:\s*[,、;/ ]?\s*[A-Za-z])+\s*", value):
        value = re.findall(r"[A-Za-z]", value)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ValueError("is empty")
    return sorted({answer_index(v, fmt, choices, keys) for v in values})
