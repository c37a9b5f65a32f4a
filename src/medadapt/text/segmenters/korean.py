"""Korean: words at spaces (어절), as written for counting; for matching, each word's particle stripped
(``data/particles.yaml``), because Korean attaches particles to the noun: «당뇨병은» is the word 당뇨병 and
a topic particle, and a keyword or an n-gram must see 당뇨병 in it.
"""

from __future__ import annotations

import re
from functools import cache

from medadapt.text.tables import load_yaml

_WORD = re.compile(r"\w+")
_SYLLABLES = (0xAC00, 0xD7A3)
_RIEUL = 8  # index of the final ㄹ among a syllable's 28 finals (0: none)


def _final(syllable: str) -> int | None:
    """The final-consonant index of a Hangul syllable (0 when it has none), None for anything else."""
    code = ord(syllable)
    return (code - _SYLLABLES[0]) % 28 if _SYLLABLES[0] <= code <= _SYLLABLES[1] else None


@cache
def _particles() -> tuple[list[str], dict[str, set[str]]]:
    """Every particle, longest first, and the particles of each kind (any, consonant, vowel, rieul)."""
    groups = {kind: set(items) for kind, items in load_yaml("particles.yaml")["ko"].items()}
    return sorted(set().union(*groups.values()), key=len, reverse=True), groups


def stem(word: str) -> str:
    """``word`` without the longest particle its last syllable before it allows."""
    ordered, particles = _particles()
    for particle in ordered:
        if len(word) > len(particle) and word.endswith(particle):
            final = _final(word[-len(particle) - 1])
            if final is None:
                continue
            allowed = particle in particles["any"] or particle in particles["consonant" if final else "vowel"]
            if allowed or (final == _RIEUL and particle in particles["rieul"]):
                return word[: -len(particle)]
    return word


class Korean:
    boundaries = None  # whole words are told by edges(), not by a regular expression

    @staticmethod
    def words(text: str) -> list[str]:
        return text.split()

    @staticmethod
    def bare_words(text: str) -> list[str]:
        """Words of letters and digits, each without its particle."""
        return [stem(m.group()) for m in _WORD.finditer(text)]

    @staticmethod
    def edges(text: str) -> set[int]:
        """Where each word of letters and digits starts and ends, and where its stem ends."""
        return {edge for m in _WORD.finditer(text) for edge in (m.start(), m.end(), m.start() + len(stem(m.group())))}


SEGMENTER = Korean()
