"""``medadapt data convert``: one file in any supported format → canonical records or an export format.

Targets: a record kind (``qa``, ``mcqa``, ``chat``, ``text``, ``article``, ``ner``; JSONL or Parquet by the
output's suffix), ``alpaca`` / ``sharegpt`` (JSON + LLaMA-Factory ``dataset_info.json``), ``openai`` (JSONL),
``hf`` (a ``datasets`` folder) and ``lm-eval`` (task YAML + data, for mcqa). Rows that cannot convert go to
``<OUT stem>.rejected.jsonl`` with their reasons; the others still convert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt.format.exports import (
    chat_to_alpaca,
    chat_to_openai,
    chat_to_sharegpt,
    write_hf_dataset,
    write_llamafactory,
    write_lm_eval,
)
from medadapt.format.formatting import article_to_texts, to_chat
from medadapt.records.importers import import_file
from medadapt.records.jsonl import write_jsonl
from medadapt.records.losses import LossLimits, check_losses, reasons
from medadapt.records.quarantine import rejection
from medadapt.records.kinds import RECORD_KINDS, ArticleRecord, MCQARecord, Record, TextRecord
from medadapt.records.store import write_records
from medadapt.errors import DataError

CHAT_EXPORTS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "alpaca": chat_to_alpaca, "sharegpt": chat_to_sharegpt, "openai": chat_to_openai}
TARGETS = [*RECORD_KINDS, *CHAT_EXPORTS, "hf", "lm-eval"]


@dataclass
class ConvertResult:
    read: int
    written: int
    outputs: list[Path]
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_file: Path | None = None
    loss: str | None = None  # the console line for a partial loss (counts and top reasons)


def _as_kind(records: list[Record], target: str, system_prompts: dict[str, str], chunk_chars: int,
             rejected: list[dict[str, Any]]) -> list[Record]:
    """``records`` as ``target`` records: chats from Q&A/MCQA/NER, text chunks from articles."""
    if target == "chat":
        out = []
        for record in records:
            try:
                out.append(to_chat(record, system_prompts))
            except ValueError as exc:
                rejected.append(rejection(f"record {record.id}", None, "(record)", str(exc),
                                          record.model_dump(mode="json"), stage="convert", step="format",
                                          rule="not_a_chat"))
        return out
    if target == "text" and all(isinstance(r, (ArticleRecord, TextRecord)) for r in records):
        return [chunk for r in records for chunk in article_to_texts(r, chunk_chars)]
    if records and not isinstance(records[0], RECORD_KINDS[target]):
        raise DataError(f"cannot convert {type(records[0]).__name__} records to {target} "
                        "(chat: from qa/mcqa/ner; text: from article)", field="--to")
    return records


def convert_file(source: Path, out: Path, from_format: str, to: str, *, lang: str | None = None,
                 source_name: str | None = None, system_prompts: dict[str, str] | None = None,
                 chunk_chars: int = 2000, limits: LossLimits | None = None) -> ConvertResult:
    """Convert ``source``; fails (DataError) when no row converts or more than ``limits`` allows are lost."""
    if to not in TARGETS:
        raise DataError(f"unknown target (one of {', '.join(TARGETS)})", field=f"--to {to}")
    imported = import_file(source, from_format, lang=lang, source=source_name, stage="convert")
    rejected = list(imported.rejected)
    out.parent.mkdir(parents=True, exist_ok=True)
    outputs = [out]
    if to in CHAT_EXPORTS:
        rows = []
        for chat in _as_kind(imported.records, "chat", system_prompts or {}, chunk_chars, rejected):
            try:
                rows.append(CHAT_EXPORTS[to](chat))
            except ValueError as exc:
                rejected.append(rejection(f"record {chat.id}", None, "messages", str(exc),
                                          chat.model_dump(mode="json"), stage="convert", step="export",
                                          rule="layout"))
        if to == "openai":
            write_jsonl(out, rows)
        else:
            outputs.append(write_llamafactory(rows, out, to))
        written = len(rows)
    elif to == "lm-eval":
        records = _as_kind(imported.records, "mcqa", {}, chunk_chars, rejected)
        if not records:
            raise DataError("no multiple-choice records to write an lm-eval task from", file=str(source))
        outputs.append(write_lm_eval([r for r in records if isinstance(r, MCQARecord)], out))
        written = len(records)
    elif to == "hf":
        write_hf_dataset(imported.records, out)
        written = len(imported.records)
    else:
        written = write_records(out, _as_kind(imported.records, to, system_prompts or {}, chunk_chars, rejected))
    result = ConvertResult(imported.rows, written, outputs, rejected)
    if rejected:
        result.rejected_file = out.with_name(f"{out.stem}.rejected.jsonl")
        write_jsonl(result.rejected_file, rejected)
    # after the rejected rows are written, so that a failed conversion still says row by row what went wrong
    result.loss = check_losses(str(source), imported.rows, reasons(rejected), limits or LossLimits())
    return result
