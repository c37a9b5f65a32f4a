"""Output files written as results arrive (one flushed line each), then put in input order at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from medadapt.records.jsonl import iter_jsonl


class Streams:
    """Append-only JSONL files under one folder, opened on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._handles: dict[str, TextIO] = {}

    def path(self, stem: str) -> Path:
        return self.folder / f"{stem}.jsonl"

    def append(self, stem: str, rows: list[dict[str, Any]]) -> None:
        if stem not in self._handles:
            self._handles[stem] = self.path(stem).open("a", encoding="utf-8")
        handle = self._handles[stem]
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()

    def release(self, stem: str) -> None:
        """Close one file (before it is rewritten in order)."""
        if stem in self._handles:
            self._handles.pop(stem).close()

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()


def reorder(path: Path, position: dict[str, int]) -> list[dict[str, Any]]:
    """The streamed rows of ``path`` sorted by their input position (keyed by ``generation.item``)."""
    if not path.is_file():
        return []
    return sorted(iter_jsonl(path), key=lambda row: position.get(row.get("generation", {}).get("item", ""), 0))
