"""Decontamination: word n-grams shared between a training text and any evaluation item.

Texts are compared in a script-neutral form (Arabic/Persian letter variants folded, digits Latin,
diacritics, ZWNJ and punctuation removed, case folded) so that a benchmark question copied from a PDF with
Arabic-form letters still matches the same question on a forum. Evaluation questions shorter than ``n``
words (common in exams) must appear whole; ones shorter than ``min_words`` are too generic to judge by.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import xxhash
from pyarabic import araby

from medadapt.curate.normalize import TO_LATIN_DIGITS

_FOLD_LETTERS = str.maketrans({"ك": "ک", "ي": "ی", "ى": "ی", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا", "آ": "ا"})
_NOT_WORD = re.compile(r"[^\w]+")


def match_tokens(text: str) -> list[str]:
    """Words of ``text`` in the script-neutral form used for matching."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = araby.strip_tashkeel(text).translate(_FOLD_LETTERS).translate(TO_LATIN_DIGITS)
    return _NOT_WORD.sub(" ", text.replace("\u200c", " ")).split()


def _key(tokens: list[str] | tuple[str, ...]) -> int:
    return xxhash.xxh3_64_intdigest(" ".join(tokens).encode("utf-8"))


@dataclass(frozen=True)
class EvalItem:
    benchmark: str
    id: str
    text: str


class ContaminationIndex:
    """Hashes of every evaluation item's n-grams (or whole short question), to look training texts up in."""

    def __init__(self, items: list[EvalItem], n: int = 13, min_words: int = 8):
        self.n = n
        self._owner: dict[tuple[int, int], EvalItem] = {}
        for item in items:
            tokens = match_tokens(item.text)
            if len(tokens) >= n:
                for i in range(len(tokens) - n + 1):
                    self._owner.setdefault((n, _key(tokens[i : i + n])), item)
            elif len(tokens) >= min_words:
                self._owner.setdefault((len(tokens), _key(tokens)), item)
        self._lengths = sorted({length for length, _ in self._owner})

    def __len__(self) -> int:
        return len(self._owner)

    def matches(self, text: str) -> Iterator[tuple[EvalItem, str]]:
        """Every (evaluation item, shared n-gram) hit in ``text``, in the order found (an item may repeat)."""
        tokens = match_tokens(text)
        for length in self._lengths:
            for i in range(len(tokens) - length + 1):
                item = self._owner.get((length, _key(tokens[i : i + length])))
                if item is not None:
                    yield item, " ".join(tokens[i : i + length])

    def find(self, text: str) -> tuple[EvalItem, str] | None:
        """The first evaluation item sharing an n-gram with ``text``, and that n-gram."""
        return next(self.matches(text), None)
