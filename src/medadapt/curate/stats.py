"""What curate reports: counts per source and language before/after, per-step removals, examples of each
rejection reason, PII counts, split sizes, and length histograms (PNG) for the run's report."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from medadapt.curate.records import BODY_FIELD, Doc
from medadapt.text.segment import words

EXCERPT_CHARS = 240


Counts = dict[tuple[str, str, str], list[int]]


def group_counts(docs: list[Doc]) -> Counts:
    """``{(kind, source, lang): [documents, words]}``; taken before the steps rewrite the records."""
    groups: Counts = defaultdict(lambda: [0, 0])
    for doc in docs:
        counts = groups[(doc.kind, doc.record["source"], doc.lang)]
        counts[0] += 1
        counts[1] += len(words(doc.all_text(), doc.lang))
    return dict(groups)


def by_source_and_language(before: Counts, after: Counts) -> list[dict[str, Any]]:
    """Documents and words (the language's, :func:`medadapt.text.segment.words`) per kind, source and language, before and after."""
    rows = []
    for key in sorted(set(before) | set(after)):
        (docs_before, words_before), (docs_after, words_after) = before.get(key, [0, 0]), after.get(key, [0, 0])
        rows.append({"kind": key[0], "source": key[1], "lang": key[2], "docs_before": docs_before,
                     "docs_after": docs_after, "words_before": words_before, "words_after": words_after})
    return rows


def language_table(steps: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The report's per-language table (``by_language``): documents read, removed by each step that removed
    any (and moved by the language step's relabelling, where it moved any), and kept, per language."""
    zero = {"in": 0, "out": 0, "removed": 0}
    columns: list[tuple[str, dict[str, Any], str]] = [("read", steps[0], "in")]
    for step in steps[1:]:
        counts = step.get("by_lang", {}).values()  # a checkpoint left by an older version has none
        if any(c["removed"] for c in counts):
            columns.append((f"removed: {step['step']}", step, "removed"))
        if any(c["out"] != c["in"] - c["removed"] for c in counts):
            columns.append((f"relabelled: {step['step']}", step, "moved"))
    columns.append(("kept", steps[-1], "out"))
    table = {}
    for lang in sorted({lang for step in steps for lang in step.get("by_lang", {})}):
        row = {}
        for label, step, key in columns:
            c = step.get("by_lang", {}).get(lang, zero)
            row[label] = c["out"] - c["in"] + c["removed"] if key == "moved" else c[key]
        table[lang] = row
    return table


def body_lengths(docs: list[Doc]) -> dict[str, list[int]]:
    """Length in words of each document's body (answer for Q&A, text for articles), per kind."""
    lengths: dict[str, list[int]] = defaultdict(list)
    for doc in docs:
        lengths[doc.kind].append(len(words(doc.record[BODY_FIELD[doc.kind]], doc.lang)))
    return dict(lengths)


def rejection_examples(rejected: list[dict[str, Any]], per_reason: int, seed: int) -> dict[str, list[dict[str, str]]]:
    """Up to ``per_reason`` random rejected documents for each step and rule, with a short excerpt."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rejected:
        groups[f"{row['step']}: {row['rule']}"].append(row)
    rng = random.Random(seed)
    examples = {}
    for label in sorted(groups):
        rows = groups[label]
        picked = sorted(rng.sample(range(len(rows)), min(per_reason, len(rows))))
        examples[label] = [{"id": str(rows[i]["id"]), "reason": rows[i]["reason"], "excerpt": _excerpt(rows[i])}
                           for i in picked]
    return examples


def _excerpt(row: dict[str, Any]) -> str:
    record = row.get("record")
    if not isinstance(record, dict):
        return str(record)[:EXCERPT_CHARS]
    text = " | ".join(str(record[f]) for f in ("title", "question", "answer", "text") if record.get(f))
    return " ".join(text.split())[:EXCERPT_CHARS]


def plot_lengths(before: dict[str, list[int]], after: dict[str, list[int]], folder: Path) -> list[str]:
    """One histogram per kind of the body's length in words, before and after curation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for kind in sorted(before):
        start, end = before[kind], after.get(kind, [])
        top = max(max(start, default=1), 1)
        bins = min(60, top)
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=120)
        ax.hist(start, bins=bins, range=(0, top), alpha=0.5, label=f"before ({len(start)})")
        ax.hist(end, bins=bins, range=(0, top), alpha=0.7, label=f"kept ({len(end)})")
        ax.set_xlabel(f"{BODY_FIELD[kind]} length (words)")
        ax.set_ylabel("documents")
        ax.set_title(f"curate: {kind} length")
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"length-{kind}.png"
        fig.savefig(folder / name)
        plt.close(fig)
        written.append(name)
    return written
