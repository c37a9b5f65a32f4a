"""Languages that write spaces between words (en, fa, ar, and every language not listed otherwise)."""

from __future__ import annotations

import re

_NOT_WORD = re.compile(r"[^\w]+")


def word_runs(text: str) -> list[str]:
    """The runs of letters, digits and ``_`` in ``text``: its words without punctuation."""
    return _NOT_WORD.sub(" ", text).split()


class Spaces:
    # \w-boundaries: a ZWNJ, space or punctuation mark ends a word, so «بیماری‌ها» contains «بیماری»
    boundaries = (r"(?<!\w)", r"(?!\w)")

    @staticmethod
    def words(text: str) -> list[str]:
        return text.split()

    @staticmethod
    def bare_words(text: str) -> list[str]:
        return word_runs(text)


SEGMENTER = Spaces()
