"""``manifest.json``: what ran, on which inputs, with which config and versions, and how it ended."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from medadapt.records.jsonl import write_json

TRACKED_PACKAGES = ("medadapt", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "gguf", "tokenizers")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


class StageRecord(BaseModel):
    status: str = "pending"  # running | done | failed
    version: str | None = None  # the stage's code version when it ran
    fingerprint: str | None = None
    #: recipe path → what the stage read there (runs.reads.describe): the recipe part of the fingerprint
    reads: dict[str, str] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)
    output_hash: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    seconds: float | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class Manifest(BaseModel):
    name: str
    recipe_file: str | None = None
    recipe_hash: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    created_at: str = Field(default_factory=now)
    updated_at: str = Field(default_factory=now)
    stages: dict[str, StageRecord] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, name: str) -> Manifest:
        if path.is_file():
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        return cls(name=name)

    def save(self, path: Path) -> None:
        """Atomic write: a crash leaves the previous manifest, never a truncated one."""
        self.updated_at = now()
        write_json(path, self.model_dump(mode="json"), final_newline=True)
