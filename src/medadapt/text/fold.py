"""Folding: one function that maps the spellings of a character that should count as the same onto one.

The letter variants come from one table (``data/letters.yaml``). Callers fold differently on purpose:
curate's normalize step rewrites text a person reads (Persian or Arabic spelling, nothing else), while
decontamination and the safety lexicons compare texts loosely and drop more. Each caller's fold is a named
:class:`Fold` below, so what differs between two callers is visible in one place, and moving a caller onto
this module left its output unchanged:

- ``Fold(letters=spelling(lang))`` — curate normalize: only the language's letters (``persian``: ي/ك/ى →
  ی/ک, ة → ه, ۀ → ه + hamza above; ``arabic``: ی/ک → ي/ك).
- ``MATCH`` — decontamination words: NFKC, case folded, the eight harakat removed, ``match`` letters (ۀ → ه
  and أ/إ/آ → ا besides the keyboard letters and ة), digits Latin, ZWNJ a space. Tatweel is kept.
- ``LEXICON`` / ``LEXICON_PATTERN`` — the safety layer's red-flag matching: NFKC, ’/‘ → ', ``lexicon``
  letters (every hamza seat, ئ and ؤ too, but ۀ kept), every Arabic combining mark removed, ZWNJ a space,
  ZWJ and tatweel removed, digits Latin, spaces collapsed; the text lower-cased, the patterns not (``\\B``
  must stay ``\\B``).
- ``KEYBOARD`` — answer keys: only ي/ك/ى → ی/ک.
- ``FIELD`` — mapping patterns and the values they read: keyboard letters, ZWNJ a space, spaces collapsed
  and trimmed, and a tatweel that elongates nothing (not after an Arabic letter, e.g. in
  ``mmlu-professional_medicineـtranslation``) read as the ``_`` other files have there.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

from medadapt.text.scripts import char_class
from medadapt.text.tables import language, load_yaml

ZWNJ, ZWJ, TATWEEL = "\u200c", "\u200d", "\u0640"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Fold:
    """What :func:`fold` does, in this order: NFKC; quotes; case folding; letters, ZWNJ, ZWJ, tatweel and
    digits (one pass); combining marks; spaces; lower-casing."""

    letters: str | None = None  # a fold name of letters.yaml
    nfkc: bool = False
    quotes: bool = False  # ’ and ‘ become '
    case: Literal["keep", "casefold", "lower"] = "keep"  # casefold first, lower last
    marks: Literal["keep", "tashkeel", "all"] = "keep"  # letters.yaml `marks`
    digits: Literal["keep", "latin", "persian"] = "keep"
    zwnj: Literal["keep", "space"] = "keep"
    zwj: Literal["keep", "drop"] = "keep"
    tatweel: Literal["keep", "drop", "underscore"] = "keep"  # underscore: dropped after an Arabic letter, else _
    spaces: bool = False  # runs of whitespace become one space, ends trimmed


MATCH = Fold(letters="match", nfkc=True, case="casefold", marks="tashkeel", digits="latin", zwnj="space")
LEXICON_PATTERN = Fold(letters="lexicon", nfkc=True, quotes=True, marks="all", digits="latin", zwnj="space",
                       zwj="drop", tatweel="drop", spaces=True)
LEXICON = replace(LEXICON_PATTERN, case="lower")
KEYBOARD = Fold(letters="keyboard")
FIELD = Fold(letters="keyboard", zwnj="space", tatweel="underscore", spaces=True)
DIGITS = Fold(digits="latin")


def spelling(lang: str | None) -> str | None:
    """The letter fold curate's normalize step applies to ``lang`` (``languages.yaml``), if any."""
    return language(lang).get("spelling")


@cache
def letter_table(name: str) -> dict[str, str]:
    """The rows of ``letters.yaml`` that fold ``name`` uses, as character → replacement."""
    table: dict[str, str] = {}
    for row in load_yaml("letters.yaml")["letters"]:
        if name in row["folds"]:
            if row["char"] in table:
                raise ValueError(f"letters.yaml: {row['char']!r} twice in fold {name}")
            table[row["char"]] = row["to"]
    if not table:
        raise ValueError(f"letters.yaml: no fold named {name}")
    return table


@cache
def _translation(options: Fold) -> dict[int, str | None]:
    mapping: dict[str, str | None] = dict(letter_table(options.letters)) if options.letters else {}
    digits = load_yaml("letters.yaml")["digits"]
    if options.digits != "keep":
        target = digits[options.digits]
        for script, forms in digits.items():
            if script != options.digits:
                mapping.update(zip(forms, target))
    if options.zwnj == "space":
        mapping[ZWNJ] = " "
    if options.zwj == "drop":
        mapping[ZWJ] = None
    if options.tatweel == "drop":
        mapping[TATWEEL] = None
    return str.maketrans(mapping)


@cache
def _marks(kind: str) -> re.Pattern[str]:
    return re.compile(load_yaml("letters.yaml")["marks"][kind])


@cache
def _elongation() -> re.Pattern[str]:
    return re.compile(f"(?<={char_class('arabic')}){TATWEEL}+")


def fold(text: str, options: Fold) -> str:
    """``text`` with the variants ``options`` names folded onto one spelling."""
    if options.nfkc:
        text = unicodedata.normalize("NFKC", text)
    if options.quotes:
        text = text.replace("’", "'").replace("‘", "'")
    if options.case == "casefold":
        text = text.casefold()
    if options.tatweel == "underscore" and TATWEEL in text:
        text = re.sub(f"{TATWEEL}+", "_", _elongation().sub("", text))
    text = text.translate(_translation(options))
    if options.marks != "keep":
        text = _marks(options.marks).sub("", text)
    if options.spaces:
        text = _SPACES.sub(" ", text).strip()
    return text.lower() if options.case == "lower" else text
