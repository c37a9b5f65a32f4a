"""N-grams shared between a text and a set of reference items: the decontamination check of curate
(training text against benchmarks) and of evaluate (benchmark questions against training files).

Texts are compared in a script-neutral form (the ``MATCH`` fold: Arabic/Persian letter variants folded,
digits Latin, diacritics and ZWNJ removed, full-width forms NFKC, case folded; then the language's n-gram
tokens: words without punctuation, characters in Chinese and Japanese, words without particles in Korean)
so that a benchmark question copied from a PDF with Arabic-form letters still matches the same question on
a forum. Reference items shorter than ``n`` (common in exams) must appear whole; ones shorter than
``min_words`` are too generic to judge by. Both numbers count words as a recipe gives them, and are scaled
to each item's language (:func:`medadapt.text.segment.scaled`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import xxhash

from medadapt.text.fold import MATCH, fold
from medadapt.text.segment import joined, ngram_tokens, ngrams, scaled


def match_tokens(text: str, lang: str | None = None) -> list[str]:
    """Tokens of ``text`` in the script-neutral form used for matching."""
    return ngram_tokens(fold(text, MATCH), lang, bare=True)


def too_short(text: str, lang: str | None, min_words: int) -> bool:
    """Whether an evaluation item has fewer than ``min_words`` (in its language's tokens) to be judged by."""
    return len(match_tokens(text, lang)) < scaled(min_words, lang, "ngram")


def _key(tokens: list[str] | tuple[str, ...]) -> int:
    return xxhash.xxh3_64_intdigest(" ".join(tokens).encode("utf-8"))


@dataclass(frozen=True)
class EvalItem:
    benchmark: str
    id: str
    text: str
    lang: str | None = None


class ContaminationIndex:
    """Hashes of every evaluation item's n-grams (or whole short question), to look training texts up in."""

    def __init__(self, items: list[EvalItem], n: int = 13, min_words: int = 8):
        self.n = n
        self._owner: dict[tuple[int, int], EvalItem] = {}
        for item in items:
            tokens, size = match_tokens(item.text, item.lang), scaled(n, item.lang, "ngram")
            if len(tokens) >= size:
                for gram in ngrams(tokens, size):
                    self._owner.setdefault((size, _key(gram)), item)
            elif len(tokens) >= scaled(min_words, item.lang, "ngram"):
                self._owner.setdefault((len(tokens), _key(tokens)), item)
        self._lengths = sorted({length for length, _ in self._owner})

    def __len__(self) -> int:
        return len(self._owner)

    def matches(self, text: str, lang: str | None = None) -> Iterator[tuple[EvalItem, str]]:
        """Every (evaluation item, shared n-gram) hit in ``text``, in the order found (an item may repeat)."""
        tokens = match_tokens(text, lang)
        for length in self._lengths:
            for gram in ngrams(tokens, length):
                item = self._owner.get((length, _key(gram)))
                if item is not None:
                    yield item, joined(gram, lang)

    def find(self, text: str, lang: str | None = None) -> tuple[EvalItem, str] | None:
        """The first evaluation item sharing an n-gram with ``text``, and that n-gram."""
        return next(self.matches(text, lang), None)
