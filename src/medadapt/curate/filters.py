"""Quality measures for the filter steps: length, Gopher-style repetition, MMed-IFT knowledge density.

Each function measures; the steps compare with the recipe's thresholds and word the rejection reason.
Words and n-grams are the language's (:mod:`medadapt.text.segment`); keyword matching is
:class:`medadapt.text.keywords.Lexicon`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from medadapt.curate.resources import DATA, read_term_list
from medadapt.text.segment import ngrams, per_english, scaled, words


@dataclass(frozen=True)
class Bounds:
    min_words: int = 0
    max_words: int | None = None
    min_chars: int = 0
    max_chars: int | None = None

    def violation(self, text: str, lang: str | None = None) -> tuple[str, str] | None:
        """``(rule, reason)`` when ``text`` (in ``lang``) is out of bounds, else None. The bounds are the
        recipe's, in ``lang``'s own words and characters where it counts them differently (zh, ja, ko:
        :func:`medadapt.text.segment.scaled`)."""
        n_words, n_chars = len(words(text, lang)), len(text)
        for rule, count, noun, below, bound, unit in (
            ("too_few_words", n_words, "words", True, self.min_words, "words"),
            ("too_many_words", n_words, "words", False, self.max_words, "words"),
            ("too_few_chars", n_chars, "characters", True, self.min_chars, "chars"),
            ("too_many_chars", n_chars, "characters", False, self.max_chars, "chars"),
        ):
            if bound is None:
                continue
            limit = scaled(bound, lang, unit)  # type: ignore[arg-type]
            if (count < limit) if below else (count > limit):
                return rule, f"{count} {noun} {'<' if below else '>'} {_written(limit, bound, lang, unit)}"
        return None


def _written(limit: int, bound: int, lang: str | None, unit: str) -> str:
    """A bound as a rejection reason gives it: the recipe's number, or what it became in ``lang``."""
    factor = per_english(lang, unit)  # type: ignore[arg-type]
    return str(limit) if factor is None else f"{limit} ({bound} × {factor} for {lang})"


def duplicate_line_fractions(text: str) -> tuple[float, float]:
    """Share of lines that repeat an earlier line, and share of characters in such lines (Gopher)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_lines = dup_chars = 0
    for line in lines:
        if line in seen:
            dup_lines += 1
            dup_chars += len(line)
        seen.add(line)
    return dup_lines / len(lines), dup_chars / sum(len(line) for line in lines)


def top_ngram_char_fraction(tokens: list[str], n: int) -> float:
    """Characters covered by the most frequent n-gram's occurrences, over all word characters (Gopher)."""
    grams = ngrams(tokens, n)
    total = sum(len(t) for t in tokens)
    if not grams or not total:
        return 0.0
    gram, count = Counter(grams).most_common(1)[0]
    if count < 2:
        return 0.0
    return count * sum(len(t) for t in gram) / total


def duplicate_ngram_char_fraction(tokens: list[str], n: int) -> float:
    """Characters of words inside n-grams that occur more than once, over all word characters (Gopher)."""
    grams = ngrams(tokens, n)
    total = sum(len(t) for t in tokens)
    if not grams or not total:
        return 0.0
    counts = Counter(grams)
    covered = [False] * len(tokens)
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            covered[i : i + n] = [True] * n
    return sum(len(t) for t, c in zip(tokens, covered) if c) / total


def keyword_file(lang: str) -> Path:
    return DATA / "keywords" / f"{lang}.txt"


def keyword_languages() -> set[str]:
    """Languages with a shipped keyword list (others need ``curate.steps[step=knowledge_density].keywords``)."""
    return {path.stem for path in (DATA / "keywords").glob("*.txt")}


def load_keywords(lang: str, override: Path | None = None) -> list[str]:
    return read_term_list(override or keyword_file(lang))
