"""Chinese: words from jieba (its own dictionary, offline), keyword edges from its search mode.

Words (``jieba.lcut``) are what curate counts for length and repetition. Keyword matching needs more: a
term must start and end on a word edge (so 心 "heart" is not found in 小心 "careful"), yet jieba keeps
many compounds whole (糖尿病肾病), and a keyword inside one must still count. Search mode adds the
dictionary words inside each long word, and their edges are where a keyword may start or end.
"""

from __future__ import annotations

import logging
from functools import cache

import jieba

from medadapt.text.segmenters.spaces import word_runs


@cache
def _jieba() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at DEBUG on stderr
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


class Chinese:
    boundaries = None  # whole words are told by edges(), not by a regular expression

    @staticmethod
    def words(text: str) -> list[str]:
        """jieba's words that hold a letter or digit (punctuation marks and spaces are not words)."""
        return [w for w in _jieba().lcut(text) if word_runs(w)]

    @staticmethod
    def bare_words(text: str) -> list[str]:
        return [run for w in _jieba().lcut(text) for run in word_runs(w)]

    @staticmethod
    def edges(text: str) -> set[int]:
        return {offset for _, start, end in _jieba().tokenize(text, mode="search") for offset in (start, end)}


SEGMENTER = Chinese()
