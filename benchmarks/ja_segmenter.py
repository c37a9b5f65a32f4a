"""Japanese word segmenter choice: SudachiPy + sudachidict-small (medadapt's ja segmenter) against fugashi +
unidic-lite (MeCab with UniDic), both from PyPI and fully offline.

Input: ``benchmarks/data/ja_segmented.txt``, 60 medical sentences segmented by hand into short-unit words.
Measured for each:
- word boundaries against the hand segmentation (precision, recall, F1; ours: Sudachi's long units, C);
- keyword edges: of the shipped ja keywords (curate/data/keywords/ja.txt) that occur as whole words of the
  hand segmentation, the share whose start and end the segmenter also marks (what keyword matching needs:
  ours adds the short units inside long ones, A);
- speed: characters per second, one call per sentence as curate makes one per document;
- install size: the installed files of both packages.

    python benchmarks/ja_segmenter.py
The last line is ours ÷ baseline for each figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.metadata import distribution
from pathlib import Path

import fugashi

from medadapt.curate.filters import load_keywords
from medadapt.text.segmenters.japanese import SEGMENTER

GOLD = Path(__file__).with_name("data") / "ja_segmented.txt"
REPEAT = 50


def _edges(tokens: list[str]) -> set[int]:
    edges, offset = {0}, 0
    for token in tokens:
        offset += len(token)
        edges.add(offset)
    return edges


def _word_edges(text: str, words: list[str]) -> set[int]:
    """Where each word starts and ends in ``text`` (a segmenter's words leave punctuation out)."""
    edges, offset = set(), 0
    for word in words:
        offset = text.index(word, offset)
        edges |= {offset, offset + len(word)}
        offset += len(word)
    return edges


def _install_mb(*names: str) -> float:
    return sum(f.locate().stat().st_size for name in names for f in distribution(name).files or []
               if f.locate().is_file()) / 1e6


def measure(words: Callable[[str], list[str]], edges: Callable[[str], set[int]],
            sentences: list[list[str]], terms: list[str]) -> dict[str, float]:
    tp = fp = fn = aligned = found = 0
    for gold in sentences:
        text = "".join(gold)
        ours, theirs = _word_edges(text, words(text)) - {0, len(text)}, _edges(gold) - {0, len(text)}
        tp, fp, fn = tp + len(ours & theirs), fp + len(ours - theirs), fn + len(theirs - ours)
        gold_edges, edges_here = _edges(gold), edges(text)
        for term in terms:
            start = text.find(term)
            while start >= 0:
                if start in gold_edges and start + len(term) in gold_edges:
                    aligned += 1
                    found += start in edges_here and start + len(term) in edges_here
                start = text.find(term, start + 1)
    texts = ["".join(gold) for gold in sentences] * REPEAT
    began = time.perf_counter()
    for text in texts:
        words(text)
    seconds = time.perf_counter() - began
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall),
            "keyword edges": found / aligned, "chars/s": sum(map(len, texts)) / seconds}


def main() -> None:
    sentences = [line.split() for line in GOLD.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#")]
    terms = load_keywords("ja")
    tagger = fugashi.Tagger()

    def mecab(text: str) -> list[str]:
        return [word.surface for word in tagger(text)]

    SEGMENTER.words(sentences[0][0])  # load the dictionaries outside the timing
    mecab(sentences[0][0])
    baseline = measure(mecab, lambda text: _edges(mecab(text)), sentences, terms)
    baseline["install MB"] = _install_mb("fugashi", "unidic-lite")
    ours = measure(SEGMENTER.words, SEGMENTER.edges, sentences, terms)
    ours["install MB"] = _install_mb("sudachipy", "sudachidict-small")
    print(f"{len(sentences)} sentences, {sum(len(s) for s in sentences)} hand-segmented words")
    print(f"{'':28}" + "".join(f"{key:>15}" for key in ours))
    for name, figures in (("fugashi + unidic-lite", baseline), ("sudachipy + dict-small", ours)):
        cells = (f"{value:15.3f}" if value < 100 else f"{value:15.0f}" for value in figures.values())
        print(f"{name:28}" + "".join(cells))
    print("ours ÷ baseline: " + ", ".join(f"{key} {ours[key] / baseline[key]:.2f}×" for key in ours))


if __name__ == "__main__":
    main()
