"""Every answered request in SQLite, keyed by (backend, model, prompt, parameters).

Each answer is committed as soon as it arrives (WAL, ``synchronous=NORMAL``: a killed process loses
nothing committed), so a re-run after kill -9 asks again only what was still in flight. Failures are not
stored: they are retried next time. Malformed answers are stored: asking again would cost the same answer.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from medadapt.llm.backend import ChatRequest, Completion
from medadapt.runs.manifest import now
from medadapt.runs.sqlite import open_state_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses(
    key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL, messages TEXT NOT NULL,
    params TEXT NOT NULL, text TEXT NOT NULL, finish_reason TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL, cost REAL NOT NULL, created_at TEXT NOT NULL);
"""


class RequestCache:
    def __init__(self, path: Path):
        self.path = path
        self.db = open_state_db(path, SCHEMA)

    def get(self, key: str) -> Completion | None:
        row = self.db.execute(
            "SELECT text, finish_reason, prompt_tokens, completion_tokens, cost FROM responses WHERE key=?", (key,)
        ).fetchone()
        return Completion(*row) if row else None

    def put(self, key: str, backend: str, model: str, request: ChatRequest, completion: Completion) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (key, backend, model, json.dumps(request.message_dicts(), ensure_ascii=False), json.dumps(request.params),
             completion.text, completion.finish_reason, completion.prompt_tokens, completion.completion_tokens,
             completion.cost, now()),
        )

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def snapshot(self, destination: Path) -> None:
        """A consistent copy (SQLite's online backup) for the stage's output folder."""
        target = sqlite3.connect(destination)
        with target:
            self.db.backup(target)
        target.close()

    def close(self) -> None:
        self.db.close()
