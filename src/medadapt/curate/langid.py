"""Language identification restricted to the recipe's languages (py3langid).

Restricting the classifier matters: unrestricted, Persian is often taken for Urdu or Pashto; among only
fa/ar/en it is separated from Arabic reliably. Probabilities are normalised over the allowed languages.
"""

from __future__ import annotations

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from medadapt.errors import RecipeError


class LanguageDetector:
    def __init__(self, languages: list[str]):
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        unknown = sorted(set(languages) - set(self._identifier.nb_classes))
        if unknown:
            raise RecipeError("curate", [f"curate.steps.language: py3langid does not know {', '.join(unknown)}"])
        self._identifier.set_languages(languages)

    def detect(self, text: str) -> tuple[str, float]:
        """The most likely allowed language and its probability among the allowed ones."""
        lang, probability = self._identifier.classify(text)
        return lang, float(probability)
