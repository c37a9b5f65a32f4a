"""The two kinds of crawled record curate works on (``qa``, ``article``) and which fields hold text.

Records stay plain dicts while they move through the steps so that every field a crawler added (url,
fetched_at, content_hash, …) is carried through untouched; pydantic validates them once, on reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: fields a step reads and rewrites (normalisation, PII), per kind
TEXT_FIELDS: dict[str, tuple[str, ...]] = {"qa": ("question", "answer"), "article": ("title", "text")}
#: the field that measures a document's length and content, per kind
BODY_FIELD: dict[str, str] = {"qa": "answer", "article": "text"}


@dataclass
class Doc:
    """A record with its kind; ``record`` is the JSON object as read, with every field kept."""

    kind: str
    record: dict[str, Any]

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def lang(self) -> str:
        return self.record["lang"]

    def text(self, qa_field: str = "question+answer") -> str:
        """The text to judge: an article's body, or the chosen Q&A field(s) (``question+answer``: both)."""
        if self.kind == "article":
            return self.record["text"]
        return "\n".join(self.record[f] for f in qa_field.split("+"))

    def all_text(self) -> str:
        return "\n".join(self.record.get(f, "") for f in TEXT_FIELDS[self.kind] if self.record.get(f))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "record": self.record}
