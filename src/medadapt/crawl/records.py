"""The crawl's output records, checked against the shared schemas before they are written."""

from __future__ import annotations

from typing import Any

from medadapt.records.kinds import ArticleRecord, QARecord

MODELS = {"qa": QARecord, "article": ArticleRecord}


def validate_record(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    return MODELS[kind].model_validate(record).model_dump(mode="json", exclude_none=True)
