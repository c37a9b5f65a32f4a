"""Words and n-grams per language: the units curate's length, repetition, near-dedup and decontamination
steps count, behind one small registry so that a language without spaces between words (zh, ja) plugs in
its own segmenter (``data/languages.yaml`` names it; ``segmenters/<name>.py`` implements it).

``languages.yaml`` also says, per language, what n-grams are made of (``ngrams``) and how a recipe's
thresholds, written for a language that counts words at spaces, translate into its own counts
(``per_english``).
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Literal, Protocol

from medadapt.text.scripts import char_class
from medadapt.text.tables import language


class Segmenter(Protocol):
    #: regex look-behind and look-ahead that delimit a whole word (keyword matching); None where a whole
    #: word is told by :meth:`edges` instead (languages without spaces between words, or with particles)
    boundaries: tuple[str, str] | None

    def words(self, text: str) -> list[str]:
        """Words as a reader counts them."""

    def bare_words(self, text: str) -> list[str]:
        """Words of letters, digits and ``_`` only: punctuation and symbols are not part of any."""


class EdgeSegmenter(Segmenter, Protocol):
    def edges(self, text: str) -> set[int]:
        """Offsets in ``text`` where a word may start or end: a keyword matches only from one to another."""


@cache
def segmenter(lang: str | None) -> Segmenter:
    """The segmenter ``languages.yaml`` names for ``lang`` (spaces for a language it does not list)."""
    name = language(lang).get("segmenter", "spaces")
    return importlib.import_module(f"medadapt.text.segmenters.{name}").SEGMENTER


def words(text: str, lang: str | None = None) -> list[str]:
    return segmenter(lang).words(text)


def bare_words(text: str, lang: str | None = None) -> list[str]:
    return segmenter(lang).bare_words(text)


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """Every run of ``n`` consecutive tokens, in order (none when there are fewer than ``n``)."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


@cache
def _char_tokens() -> re.Pattern[str]:
    cjk = "".join(char_class(script)[1:-1] for script in ("han", "kana"))
    return re.compile(f"[{cjk}]|[^\\W{cjk}]+")


def char_tokens(text: str) -> list[str]:
    """Each Chinese character and kana on its own, and every other run of letters and digits whole (CT,
    HbA1c in Chinese text): the n-gram unit where a segmenter's words are not stable enough to compare
    two texts by (the same phrase can be cut differently in two contexts)."""
    return _char_tokens().findall(text)


def ngram_tokens(text: str, lang: str | None = None, bare: bool = False) -> list[str]:
    """The tokens near-dedup shingles (``bare=False``) and decontamination n-grams (``bare=True``) are made
    of, as ``languages.yaml``'s ``ngrams`` says: ``characters`` (zh, ja: :func:`char_tokens`),
    ``bare_words`` (ko: words without particles, for both), or ``words`` (the default: words as written for
    shingles, bare words for decontamination)."""
    unit = language(lang).get("ngrams", "words")
    if unit == "characters":
        return char_tokens(text)
    return bare_words(text, lang) if bare or unit == "bare_words" else words(text, lang)


def joined(tokens: list[str] | tuple[str, ...], lang: str | None = None) -> str:
    """Tokens of :func:`ngram_tokens` as a person reads them: characters side by side, words spaced."""
    return ("" if language(lang).get("ngrams") == "characters" else " ").join(tokens)


Unit = Literal["words", "chars", "ngram"]


def per_english(lang: str | None, unit: Unit) -> float | None:
    """How many of ``lang``'s units stand for one of a space-separated language's (``languages.yaml``'s
    ``per_english``: words, characters, n-gram tokens), or None where a recipe's numbers apply as written."""
    return language(lang).get("per_english", {}).get(unit)


def scaled(count: int, lang: str | None, unit: Unit) -> int:
    """A recipe's ``count`` (of words, characters or n-gram tokens) in ``lang``'s own units."""
    factor = per_english(lang, unit)
    return count if factor is None or count == 0 else max(1, round(count * factor))
