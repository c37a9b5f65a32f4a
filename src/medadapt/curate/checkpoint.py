"""Resume after a crash: each finished step leaves its survivors and rejections on disk.

The runner empties a stage's output folder when it starts again, so the checkpoint lives beside it, in
``runs/<name>/curate-state/checkpoint/``, and is tied to a fingerprint of the configuration and input contents:
any change starts from scratch. Files are written atomically and a step's ``summary.json`` is written
last, so a step killed half-way has no summary and is simply redone — nothing is lost or counted twice.
Only the latest step's survivors are kept, so the checkpoint holds about one copy of the data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from medadapt.curate.records import Doc
from medadapt.records.jsonl import iter_jsonl, write_json, write_jsonl


class Checkpoint:
    def __init__(self, folder: Path, fingerprint: str):
        self.folder = folder
        stamp = folder / "fingerprint"
        if not stamp.is_file() or stamp.read_text() != fingerprint:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            stamp.write_text(fingerprint)

    def _step_dir(self, index: int, name: str) -> Path:
        return self.folder / f"{index:02d}-{name}"

    def work_dir(self, index: int, name: str) -> Path:
        """Scratch space of a step while it runs (an engine's shards); removed once the step is saved."""
        return self.folder / f"{index:02d}-{name}.work"

    def done(self, index: int, name: str) -> dict[str, Any] | None:
        """The saved summary of step ``index`` if it finished, else None."""
        summary = self._step_dir(index, name) / "summary.json"
        return json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else None

    def save(self, index: int, name: str, kept: list[Doc], rejected: list[dict[str, Any]], summary: dict[str, Any],
             previous: tuple[int, str] | None) -> None:
        folder = self._step_dir(index, name)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        write_jsonl(folder / "kept.jsonl", (d.to_json() for d in kept))
        write_jsonl(folder / "rejected.jsonl", rejected)
        write_json(folder / "summary.json", summary, indent=None)
        shutil.rmtree(self.work_dir(index, name), ignore_errors=True)
        if previous is not None:
            (self._step_dir(*previous) / "kept.jsonl").unlink(missing_ok=True)

    def kept(self, index: int, name: str) -> list[Doc]:
        return [Doc(row["kind"], row["record"]) for row in iter_jsonl(self._step_dir(index, name) / "kept.jsonl")]

    def rejected(self, index: int, name: str) -> list[dict[str, Any]]:
        return list(iter_jsonl(self._step_dir(index, name) / "rejected.jsonl"))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
