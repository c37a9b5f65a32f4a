"""What a perplexity evaluation scores, from any file the record importers read: a text document (``text`` and
``article`` records: the whole text, lm-eval's ``loglikelihood_rolling``) or a conversation whose assistant turns
are scored given what comes before them (``qa`` records as the data stage renders them: the language's system
prompt, the question as the user turn, the answer as the assistant's; ``chat`` records as they are).

Bytes and words are counted as lm-eval counts them for its rolling tasks (``Task.count_bytes`` /
``count_words``): UTF-8 bytes, and ``len(re.split(r"\\s+", text))`` pieces, of the scored text (for a
conversation, of its assistant turns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from medadapt.errors import DataError

SCORED_KINDS = {"text": "text", "article": "text", "qa": "answer", "chat": "answer"}


@dataclass(frozen=True)
class Document:
    """One scored unit: ``text`` for a rolling text document, ``messages`` for a conversation."""

    id: str
    source: str
    lang: str
    kind: Literal["text", "answer"]
    text: str = ""
    messages: tuple[dict[str, str], ...] = ()

    @property
    def scored_text(self) -> str:
        if self.kind == "text":
            return self.text
        return "".join(m["content"] for m in self.messages if m["role"] == "assistant")

    @property
    def bytes(self) -> int:
        return len(self.scored_text.encode("utf-8"))

    @property
    def words(self) -> int:
        return len(re.split(r"\s+", self.scored_text))


def _conversation(record: Any, system_prompts: dict[str, str]) -> tuple[dict[str, str], ...]:
    """A qa record as the data stage turns it into a chat (system prompt of its language, user, assistant)."""
    if hasattr(record, "messages"):
        return tuple({"role": m.role, "content": m.content} for m in record.messages)
    system = system_prompts.get(record.lang)
    return ((({"role": "system", "content": system},) if system else ())
            + ({"role": "user", "content": record.question}, {"role": "assistant", "content": record.answer}))


def load_documents(path: Path, fmt: str, limit: int | None = None, system_prompts: dict[str, str] | None = None,
                   base_dir: Path | None = None) -> tuple[list[Document], list[dict[str, Any]]]:
    """The documents of ``path`` read as ``fmt`` (a record kind or a data mapping), the first ``limit`` of them,
    and the rows the importer rejected."""
    from medadapt.records.importers import import_file

    result = import_file(path, fmt, base_dir=base_dir, stage="evaluate")
    kind = SCORED_KINDS.get(result.kind)
    if kind is None:
        raise DataError(f"format {fmt!r} gives {result.kind} records; perplexity scores "
                        f"{', '.join(sorted(SCORED_KINDS))} records", file=str(path))
    records = result.records[:limit] if limit else result.records
    documents = [Document(str(r.id), r.source, r.lang, kind, text=r.text) if kind == "text" else
                 Document(str(r.id), r.source, r.lang, kind, messages=_conversation(r, system_prompts or {}))
                 for r in records]
    return documents, result.rejected
