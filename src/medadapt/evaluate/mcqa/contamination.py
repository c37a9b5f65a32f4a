"""Is a benchmark question in the training data? Checked before scoring, against the files the run trained on.

A question the model saw in training inflates the after-training score, so every result says how many of its
questions were found in the training files (and which, with the shared words), and a recipe may leave them out
of scoring. The matching is the text layer's (:mod:`medadapt.text.overlap`: script-neutral word n-grams), the
same as curate's decontaminate step, so curate's filter and this check agree:
after a curate `decontaminate` step this finds nothing unless data came in another way (e.g. generated).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt.records.kinds import MCQARecord
from medadapt.records.tables import read_rows
from medadapt.text.overlap import ContaminationIndex, EvalItem, too_short

TEXT_KEYS = ("title", "text", "question", "answer")


def row_text(row: dict[str, Any]) -> str:
    """All the prose of a training row, whatever its kind (text, article, Q&A, chat)."""
    parts = [row[key] for key in TEXT_KEYS if isinstance(row.get(key), str)]
    messages = row.get("messages")
    if isinstance(messages, list):
        parts += [m["content"] for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)]
    return "\n".join(parts)


def training_rows(paths: list[Path]) -> Iterator[tuple[Path, int, str, str | None]]:
    """Each row's file, number, prose and declared language. The files may be a user's own (``eval mcqa
    --training-data``), so they are read as any data file is: a line that is no JSON object has no prose."""
    for path in paths:
        for raw in read_rows(path):
            if raw.error and raw.error[0] == "(row)":
                continue
            lang = raw.data.get("lang")
            yield path, raw.row, row_text(raw.data), lang if isinstance(lang, str) else None


@dataclass
class ContaminationReport:
    files: list[str]
    ngram: int
    rows_checked: int = 0
    too_short: list[str] = field(default_factory=list)  # question ids too short to judge by
    hits: dict[str, dict[str, Any]] = field(default_factory=dict)  # question id → first place found

    def as_dict(self, excluded: bool) -> dict[str, Any]:
        return {"training_files": self.files, "ngram": self.ngram, "training_rows": self.rows_checked,
                "contaminated": len(self.hits), "too_short_to_check": len(self.too_short),
                "excluded": len(self.hits) if excluded else 0, "items": self.hits}


def check_contamination(records: list[MCQARecord], training_files: list[Path], ngram: int = 13,
                        min_words: int = 8) -> ContaminationReport:
    """Find every question of ``records`` that shares a word ``ngram`` (or, when shorter, its whole text) with
    a row of the training files."""
    report = ContaminationReport([str(p) for p in training_files], ngram)
    report.too_short = [r.id for r in records if too_short(r.question, r.lang, min_words)]
    index = ContaminationIndex([EvalItem("", r.id, r.question, r.lang) for r in records], ngram, min_words)
    for path, number, text, lang in training_rows(training_files):
        report.rows_checked += 1
        for item, gram in index.matches(text, lang):
            report.hits.setdefault(item.id, {"file": path.name, "row": number, "shared": gram})
    return report
