"""Language identification restricted to a recipe's languages (py3langid), with script rules first.

Restricting the classifier matters: unrestricted, Persian is often taken for Urdu or Pashto; among only
fa/ar/en it is separated from Arabic reliably. Probabilities are normalised over the allowed languages.
Scripts settle what character statistics can miss on short texts: kana means Japanese, Hangul Korean
(``data/langid.yaml``); such a rule narrows the candidates, the classifier still ranks what is left.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from medadapt.text.scripts import script_shares
from medadapt.text.tables import load_yaml


class UnknownLanguages(ValueError):
    """Languages the classifier's model has no class for."""


@cache
def _rules() -> tuple[tuple[frozenset[str], tuple[tuple[tuple[str, ...], float], ...]], ...]:
    return tuple((frozenset(rule["languages"]), tuple((tuple(key.split("+")), float(least))
                                                      for key, least in rule["shares"].items()))
                 for rule in load_yaml("langid.yaml"))


class LanguageDetector:
    def __init__(self, languages: list[str]):
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        unknown = sorted(set(languages) - set(self._identifier.nb_classes))
        if unknown:
            raise UnknownLanguages(f"py3langid does not know {', '.join(unknown)}")
        self._identifier.set_languages(languages)
        self._languages = frozenset(languages)

    def candidates(self, text: str) -> frozenset[str]:
        """The allowed languages ``text``'s scripts leave (all of them when no rule applies)."""
        shares, _ = script_shares(text)
        for languages, needs in _rules():
            if all(sum(shares.get(s, 0.0) for s in scripts) >= least for scripts, least in needs):
                if languages & self._languages:
                    return languages & self._languages
        return self._languages

    def detect(self, text: str) -> tuple[str, float]:
        """The most likely allowed language and its probability among the candidates left."""
        candidates = self.candidates(text)
        if candidates == self._languages:
            lang, probability = self._identifier.classify(text)
            return lang, float(probability)
        ranked = [(lang, p) for lang, p in self._identifier.rank(text) if lang in candidates]
        total = sum(p for _, p in ranked)
        lang, probability = ranked[0]
        return lang, float(probability / total) if total else 1.0 / len(ranked)
