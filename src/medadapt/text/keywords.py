"""Keyword matching: one compiled alternation of terms, found as whole words of a language.

Curate's knowledge-density step counts medical keywords (literal terms, whole words, any case); the safety
layer's red-flag rules are regular expressions matched anywhere in folded text. Both go through
:class:`Lexicon`, so where a word starts and ends is the language's segmenter's decision
(:mod:`medadapt.text.segment`), not something each caller writes again: at ``\\w`` boundaries where words
are written between spaces, at the segmenter's word edges in Chinese and Japanese (no ``\\w`` boundary
exists inside 糖尿病患者) and in Korean (the keyword 당뇨병 ends inside the word «당뇨병은»).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from medadapt.text.segment import EdgeSegmenter, segmenter


class Lexicon:
    """Terms (literal, longest first; or regular expressions, in the order given) matched in a text."""

    def __init__(self, terms: list[str], lang: str | None = None, *, regex: bool = False,
                 whole_words: bool = True, ignore_case: bool = False):
        ordered = terms if regex else sorted(terms, key=len, reverse=True)
        alternatives = "|".join(t if regex else re.escape(t) for t in ordered)
        seg = segmenter(lang)
        # where no regular expression tells a whole word, the segmenter's word edges do
        self._edges: EdgeSegmenter | None = seg if whole_words and seg.boundaries is None else None  # type: ignore
        if whole_words and seg.boundaries is not None:
            before, after = seg.boundaries
            pattern = f"{before}(?:{alternatives}){after}"
        else:  # one expression is compiled as written: a leading inline flag such as (?i) stays valid
            pattern = alternatives if len(terms) == 1 else f"(?:{alternatives})"
        self.pattern = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        self.size = len(terms)
        self._fold = str.lower if ignore_case else str
        self._literal = None if regex else {self._fold(t) for t in terms}
        self._lengths = sorted({len(t) for t in terms}, reverse=True)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self._edges is None else self._on_edges(text)

    def _on_edges(self, text: str) -> Iterator[re.Match[str]]:
        """Leftmost, then longest, non-overlapping matches that start and end on a word edge, as the
        ``\\w`` boundaries give for languages with spaces: a term is not found inside a longer word (心 in
        小心), but is inside a compound the segmenter splits (糖尿病 in 糖尿病肾病)."""
        edges = self._edges.edges(text)  # type: ignore[union-attr]
        ordered = sorted(edges, reverse=True)
        taken = 0
        for start in sorted(edges):
            if start < taken:
                continue
            if self._literal is not None:
                ends = [start + n for n in self._lengths
                        if start + n in edges and self._fold(text[start : start + n]) in self._literal]
            else:
                ends = [end for end in ordered if end > start]
            match = next((m for end in ends if (m := self.pattern.fullmatch(text, start, end))), None)
            if match is not None:
                taken = match.end()
                yield match

    def search(self, text: str) -> bool:
        return next(self.finditer(text), None) is not None

    def measure(self, text: str) -> tuple[set[str], float]:
        """Distinct terms found (case-folded) and the share of the text's characters other than spaces and
        newlines that they cover (MMed-IFT's knowledge density)."""
        found, covered = set(), 0
        for match in self.finditer(text):
            found.add(match.group().casefold())
            covered += len(match.group().replace(" ", ""))
        letters = len(text) - text.count(" ") - text.count("\n")
        return found, covered / letters if letters else 0.0
