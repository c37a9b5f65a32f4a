"""Red-flag detection, in four explainable steps:

1. **normalise** (the text layer's ``LEXICON`` fold): NFKC (full- and half-width forms), letter variants (ي/ك
   typed on an Arabic keyboard read as Persian ی/ک, every hamza seat), diacritics and tatweel dropped, ZWNJ a
   space, digits of every script as 0-9, lower case;
2. **context** (the conversation language's pack): negated spans ("no fever", «تب نداره», 熱はない) and
   clauses about the past ("had chest pain last year") are blanked, so they raise nothing;
3. **rules** (every pack's lexicon and patterns, quantities and times included: "20 tablets an hour ago");
4. **semantic layer** (:mod:`.semantic`): a classifier over character n-grams, for phrasings no rule lists.

A hypothetical question ("what should I do if someone has chest pain?") is not masked: guidance first is
the right answer to it too. Each :class:`Finding` says which step found it and on what evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from medadapt.serve.redflags.rules import Context, RedFlagCategory
from medadapt.serve.redflags.semantic import SemanticLayer
from medadapt.text.fold import LEXICON, fold


class PackLike(Protocol):
    red_flags: dict[str, RedFlagCategory]
    context: Context


@dataclass
class Finding:
    category: str
    lang: str  # the pack whose rule matched (semantic layer: the conversation's, or a pack with the category)
    source: str  # "rule" or "semantic"
    evidence: str  # the text the rule found, or "p=0.91 like: <nearest exemplar>"


@dataclass
class Detection:
    findings: list[Finding] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)  # negated or past spans the context step blanked


class Detector:
    def __init__(self, packs: Mapping[str, PackLike], semantic: bool = True):
        self.packs = packs
        self.semantic = _trained(_ContextKey(packs)) if semantic else None

    def prepare(self, text: str, lang: str | None) -> tuple[str, list[str]]:
        """``text`` normalised, with the spans ``lang``'s context masks blanked (and those spans)."""
        folded = fold(text, LEXICON)
        pack = self.packs.get(lang) if lang else None
        return pack.context.mask(folded) if pack is not None else (folded, [])

    def detect(self, text: str, lang: str | None) -> Detection:
        """Every category ``text`` raises (one finding each); ``lang`` is the conversation's language."""
        prepared, set_aside = self.prepare(text, lang)
        found: dict[str, Finding] = {}
        for pack_lang, pack in self.packs.items():
            for category in pack.red_flags.values():
                if category.name not in found and (evidence := category.match(prepared)):
                    found[category.name] = Finding(category.name, pack_lang, "rule", evidence)
        if self.semantic is not None:
            for guess in self.semantic.guesses(prepared, lang):
                owner = self._owner(guess.category, lang)
                if guess.category not in found and owner is not None:
                    found[guess.category] = Finding(guess.category, owner, "semantic",
                                                    f"p={guess.probability:.2f} like: {guess.nearest}")
        for name in list(found):
            if (reason := self._vetoed(name, prepared)) is not None:
                set_aside.append(f"{name}: {reason}")
                del found[name]
        return Detection(list(found.values()), set_aside)

    def _vetoed(self, category: str, prepared: str) -> str | None:
        """Why ``category`` falls in ``prepared`` by its ``requires`` and ``unless`` (every pack's), or None."""
        definitions = [p.red_flags[category] for p in self.packs.values() if category in p.red_flags]
        requires = [r for d in definitions for r in d.requires]
        if requires and not any(r.search(prepared) for r in requires):
            return "nothing it requires"
        hit = next((m for d in definitions for u in d.unless if (m := u.search(prepared))), None)
        return f"unless {hit.group()!r}" if hit else None

    def _owner(self, category: str, lang: str | None) -> str | None:
        """A pack with guidance for ``category``: the conversation's first."""
        if lang in self.packs and category in self.packs[lang].red_flags:
            return lang
        return next((name for name, pack in self.packs.items() if category in pack.red_flags), None)


@dataclass(frozen=True)
class _ContextKey:
    """The packs' context masks, hashable: the classifier is trained once per set of masks (once a process
    for the shipped packs), not once per :class:`Detector`."""

    contexts: tuple[tuple[str, Context], ...]

    def __init__(self, packs: Mapping[str, PackLike]):
        object.__setattr__(self, "contexts", tuple(sorted((lang, p.context) for lang, p in packs.items())))


@cache
def _trained(key: _ContextKey) -> SemanticLayer:
    contexts = dict(key.contexts)

    def prepare(text: str, lang: str) -> str:
        folded = fold(text, LEXICON)
        return contexts[lang].mask(folded)[0] if lang in contexts else folded

    return SemanticLayer.from_exemplars(prepare)
