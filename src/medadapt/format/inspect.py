"""``medadapt data inspect``: what a data file holds (counts, languages, sources, length percentiles) and a
few examples rendered as the model will see them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from medadapt.format.formatting import to_chat
from medadapt.records.importers import ImportResult, import_file, required_columns
from medadapt.records.mapping import load_mapping, shipped_mappings
from medadapt.records.kinds import RECORD_KINDS, ArticleRecord, ChatRecord, Record, TextRecord
from medadapt.records.tables import read_rows
from medadapt.errors import DataError

KIND_MARKERS = [("messages", "chat"), ("choices", "mcqa"), ("tokens", "ner"), ("answer", "qa"), ("title", "article"),
                ("text", "text")]


def guess_format(path: Path) -> str | None:
    """The reader for a file, from the keys of its first readable row: the canonical kind whose marker field
    the row has, unless a shipped mapping whose required columns the row has uses more of its columns (e.g.
    MF3QA's ``Question``/``Answer`` CSV → ``gaokerena-mf3qa``; MMLU-fa's question/answer/option1… →
    ``gaokerena-mmlu-fa``, not canonical qa)."""
    for raw in read_rows(path):
        if raw.error is None:
            columns = set(map(str, raw.data))
            kind = next((kind for key, kind in KIND_MARKERS if key in columns), None)
            mapping, used = _matching_mapping(columns)
            if kind is None or used > len(columns & set(RECORD_KINDS[kind].model_fields)):
                return mapping or kind
            return kind
    return None


def _matching_mapping(columns: set[str]) -> tuple[str | None, int]:
    """The shipped mapping whose required columns are all in ``columns`` and that uses most of them (ties: by
    name), with how many it uses."""
    scored = []
    for name in shipped_mappings():
        mapping = load_mapping(name)
        required = {column for _, column in required_columns(mapping)}
        if required and required <= columns:
            used = required | {spec.column for field in mapping.fields if (spec := mapping.column(field)) and spec.column}
            scored.append((-len(used & columns), name))
    if not scored:
        return None, 0
    best = min(scored)
    return best[1], -best[0]


def rendered(record: Record, tokenizer: Any = None) -> str:
    """The record as training sees it: chat text (with the model's template when a tokenizer is given)."""
    if isinstance(record, (ArticleRecord, TextRecord)):
        return record.text
    chat = record if isinstance(record, ChatRecord) else to_chat(record, {})
    messages = [m.model_dump() for m in chat.messages]
    if tokenizer is not None:
        return tokenizer.apply_chat_template(messages, tokenize=False)
    return "\n".join(f"[{m['role']}] {m['content']}" for m in messages)


def summary(result: ImportResult, tokenizer: Any = None) -> dict[str, Any]:
    import numpy as np

    def length(record: Record) -> int:
        try:
            text = rendered(record)
        except ValueError:  # no instruction prompts for its language: measure the raw record
            text = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"]) if tokenizer is not None else len(text)

    lengths = np.array([length(r) for r in result.records]) if result.records else np.array([0])
    info: dict[str, Any] = {
        "kind": result.kind,
        "rows": result.rows,
        "records": len(result.records),
        "rejected": len(result.rejected),
        "by_lang": dict(Counter(r.lang for r in result.records).most_common()),
        "by_source": dict(Counter(r.source for r in result.records).most_common()),
        "length_unit": "tokens" if tokenizer is not None else "characters",
        "length_percentiles": {f"p{q}": int(np.percentile(lengths, q)) for q in (50, 90, 99)} | {"max": int(lengths.max())},
    }
    if result.kind == "mcqa":
        info["by_subject"] = dict(Counter(r.subject for r in result.records).most_common(10))
        info["answer_positions"] = dict(sorted(Counter(r.answer for r in result.records).items()))
    if len(result.rows_by_part) > 1:
        info["rows_by_part"] = dict(result.rows_by_part)
    return info


def inspect_file(path: Path, from_format: str | None, lang: str | None = None) -> tuple[str, ImportResult]:
    """The reader used (``from_format`` or the guess) and what it read."""
    fmt = from_format or guess_format(path)
    if fmt is None:
        raise DataError("cannot tell the record kind or a shipped mapping from its columns; name it with --from "
                        "(a kind or a mapping, see `medadapt data formats`)", file=str(path))
    return fmt, import_file(path, fmt, lang=lang, stage="inspect")
