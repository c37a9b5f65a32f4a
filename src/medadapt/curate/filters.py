"""Quality measures for the filter steps: length, Gopher-style repetition, MMed-IFT knowledge density.

Each function measures; the steps compare with the recipe's thresholds and word the rejection reason.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from medadapt.curate.resources import DATA, read_term_list


@dataclass(frozen=True)
class Bounds:
    min_words: int = 0
    max_words: int | None = None
    min_chars: int = 0
    max_chars: int | None = None

    def violation(self, text: str) -> tuple[str, str] | None:
        """``(rule, reason)`` when ``text`` is out of bounds, else None."""
        n_words, n_chars = len(text.split()), len(text)
        if n_words < self.min_words:
            return "too_few_words", f"{n_words} words < {self.min_words}"
        if self.max_words is not None and n_words > self.max_words:
            return "too_many_words", f"{n_words} words > {self.max_words}"
        if n_chars < self.min_chars:
            return "too_few_chars", f"{n_chars} characters < {self.min_chars}"
        if self.max_chars is not None and n_chars > self.max_chars:
            return "too_many_chars", f"{n_chars} characters > {self.max_chars}"
        return None


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


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def top_ngram_char_fraction(tokens: list[str], n: int) -> float:
    """Characters covered by the most frequent n-gram's occurrences, over all word characters (Gopher)."""
    grams = _ngrams(tokens, n)
    total = sum(len(t) for t in tokens)
    if not grams or not total:
        return 0.0
    gram, count = Counter(grams).most_common(1)[0]
    if count < 2:
        return 0.0
    return count * sum(len(t) for t in gram) / total


def duplicate_ngram_char_fraction(tokens: list[str], n: int) -> float:
    """Characters of words inside n-grams that occur more than once, over all word characters (Gopher)."""
    grams = _ngrams(tokens, n)
    total = sum(len(t) for t in tokens)
    if not grams or not total:
        return 0.0
    counts = Counter(grams)
    covered = [False] * len(tokens)
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            covered[i : i + n] = [True] * n
    return sum(len(t) for t, c in zip(tokens, covered) if c) / total


class KeywordMatcher:
    """Medical keywords of one language: which distinct ones a text contains and what share they cover."""

    def __init__(self, terms: list[str]):
        alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
        # \w-boundaries: a ZWNJ or space ends a Persian word, so «بیماری‌ها» still contains «بیماری»
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        self.size = len(terms)

    def measure(self, text: str) -> tuple[set[str], float]:
        """Distinct keywords found (case-folded) and the share of non-space characters they cover."""
        found, covered = set(), 0
        for match in self._pattern.finditer(text):
            found.add(match.group().casefold())
            covered += len(match.group().replace(" ", ""))
        letters = len(text) - text.count(" ") - text.count("\n")
        return found, covered / letters if letters else 0.0


def keyword_file(lang: str) -> Path:
    return DATA / "keywords" / f"{lang}.txt"


def load_keywords(lang: str, override: Path | None = None) -> list[str]:
    return read_term_list(override or keyword_file(lang))
