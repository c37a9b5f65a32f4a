"""The crawl's memory in SQLite: frontier, seen set, results and failures, committed page by page.

WAL mode with ``synchronous=NORMAL`` survives a killed process (kill -9) without an fsync per page: a page is
either committed with its WARC offset, its records and its new links in one transaction, or it is still
pending and will be fetched again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medadapt.runs.sqlite import open_state_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS urls(
    url TEXT PRIMARY KEY, site TEXT NOT NULL, kind TEXT NOT NULL, depth INTEGER NOT NULL,
    via TEXT, found_by TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    http_status INTEGER, bytes INTEGER, page_kind TEXT, final_url TEXT, reason TEXT,
    warc_file TEXT, warc_offset INTEGER, warc_length INTEGER, fetched_at TEXT);
CREATE INDEX IF NOT EXISTS urls_status ON urls(status, depth);
CREATE TABLE IF NOT EXISTS records(id TEXT PRIMARY KEY, url TEXT NOT NULL, site TEXT NOT NULL,
    kind TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_url ON records(url);
CREATE TABLE IF NOT EXISTS failures(url TEXT NOT NULL, site TEXT NOT NULL, step TEXT NOT NULL,
    reason TEXT NOT NULL, http_status INTEGER, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS failures_url ON failures(url);
CREATE TABLE IF NOT EXISTS robots(origin TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL,
    fetched_at TEXT NOT NULL);
"""


@dataclass
class Pending:
    url: str
    site: str
    kind: str  # page | sitemap
    depth: int


@dataclass
class NewLink:
    url: str
    site: str
    kind: str
    depth: int
    via: str | None
    found_by: str  # start | sitemap | link | related | redirect
    status: str = "pending"  # "alias": a redirect target already fetched under the URL that redirected to it


@dataclass
class Outcome:
    """What one fetched URL left: its row update, records, failures and links, committed together."""

    url: str
    status: str  # done | failed | skipped
    fetched_at: str
    http_status: int | None = None
    bytes: int | None = None
    page_kind: str | None = None
    final_url: str | None = None
    reason: str | None = None
    warc: tuple[str, int, int] | None = None
    records: list[dict[str, Any]] | None = None
    failures: list[tuple[str, str]] | None = None  # (step, reason)
    links: list[NewLink] | None = None


class CrawlState:
    def __init__(self, path: Path):
        self.path = path
        self.db = open_state_db(path, SCHEMA)

    def close(self) -> None:
        self.db.close()

    # meta
    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    # frontier
    def pending(self) -> list[Pending]:
        rows = self.db.execute("SELECT url, site, kind, depth FROM urls WHERE status='pending' ORDER BY depth, rowid")
        return [Pending(*row) for row in rows]

    def done_pages(self, site: str) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM urls WHERE site=? AND kind='page' AND status IN ('done','failed')",
                              (site,)).fetchone()
        return row[0]

    def add(self, links: Iterable[NewLink]) -> list[NewLink]:
        """Insert links not seen before; return those that were new."""
        added = []
        for link in links:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO urls(url, site, kind, depth, via, found_by, status) VALUES(?,?,?,?,?,?,?)",
                (link.url, link.site, link.kind, link.depth, link.via, link.found_by, link.status))
            if cursor.rowcount:
                added.append(link)
        return added

    def rebase(self, site: str, old_base: str, new_base: str) -> int:
        """A site served from a new address (a fixture on a new port): move its known URLs there."""
        moved = 0
        with self.db:
            self.db.execute("BEGIN")
            for table, column in (("urls", "url"), ("urls", "final_url"), ("records", "url")):
                cursor = self.db.execute(
                    f"UPDATE OR IGNORE {table} SET {column} = ? || substr({column}, ?)"
                    f" WHERE site=? AND substr({column}, 1, ?)=?",
                    (new_base, len(old_base) + 1, site, len(old_base), old_base))
                moved += cursor.rowcount if (table, column) == ("urls", "url") else 0
        return moved

    def commit(self, outcome: Outcome, site: str) -> list[NewLink]:
        """Record one URL's outcome atomically; return its links that were new."""
        with self.db:
            self.db.execute("BEGIN")
            warc = outcome.warc or (None, None, None)
            self.db.execute(
                "UPDATE urls SET status=?, http_status=?, bytes=?, page_kind=?, final_url=?, reason=?, warc_file=?,"
                " warc_offset=?, warc_length=?, fetched_at=? WHERE url=?",
                (outcome.status, outcome.http_status, outcome.bytes, outcome.page_kind, outcome.final_url,
                 outcome.reason, *warc, outcome.fetched_at, outcome.url))
            self.replace_results(outcome.final_url or outcome.url, site, outcome.records or [], outcome.failures or [], outcome.fetched_at,
                                 outcome.http_status, steps=None)
            new = self.add(outcome.links or [])
            if outcome.status == "done" and outcome.final_url:  # a redirect target already queued: fetched now
                self.db.execute("UPDATE urls SET status='alias', reason=? WHERE url=? AND status='pending'",
                                (f"fetched as the redirect target of {outcome.url}", outcome.final_url))
            return new

    def replace_results(self, url: str, site: str, records: list[dict[str, Any]], failures: list[tuple[str, str]],
                        at: str, http_status: int | None, steps: tuple[str, ...] | None) -> None:
        """Set a URL's records (and failures of ``steps``, all when None) to these (re-extraction reuses it)."""
        self.db.execute("DELETE FROM records WHERE url=?", (url,))
        if steps:
            self.db.execute(f"DELETE FROM failures WHERE url=? AND step IN ({','.join('?' * len(steps))})", (url, *steps))
        self.db.executemany("INSERT OR REPLACE INTO records(id, url, site, kind, json) VALUES(?,?,?,?,?)",
                            [(r["id"], url, site, r["kind"], json.dumps(r["record"], ensure_ascii=False)) for r in records])
        self.db.executemany("INSERT INTO failures(url, site, step, reason, http_status, at) VALUES(?,?,?,?,?,?)",
                            [(url, site, step, reason, http_status, at) for step, reason in failures])

    def stored_pages(self) -> Iterator[tuple[str, str, str, int, int, str, int]]:
        """(url, site, warc_file, offset, length, fetched_at, http_status) of pages kept in WARC."""
        yield from self.db.execute(
            "SELECT COALESCE(final_url, url), site, warc_file, warc_offset, warc_length, fetched_at, http_status FROM urls"
            " WHERE status='done' AND kind='page' AND warc_file IS NOT NULL ORDER BY rowid")

    def committed_warc_ends(self) -> dict[str, int]:
        rows = self.db.execute("SELECT warc_file, MAX(warc_offset + warc_length) FROM urls WHERE warc_file IS NOT NULL"
                               " GROUP BY warc_file")
        return {name: end for name, end in rows}

    # robots.txt
    def robots(self, origin: str) -> tuple[int, str, str] | None:
        return self.db.execute("SELECT status, body, fetched_at FROM robots WHERE origin=?", (origin,)).fetchone()

    def set_robots(self, origin: str, status: int, body: str, at: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO robots(origin, status, body, fetched_at) VALUES(?,?,?,?)",
                        (origin, status, body, at))

    # outputs
    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        for url, text in self.db.execute("SELECT url, json FROM records WHERE kind=? ORDER BY rowid", (kind,)):
            yield {**json.loads(text), "url": url}  # the column follows a site that moved (see rebase)

    def failures(self) -> Iterator[dict[str, Any]]:
        rows = self.db.execute("SELECT url, site, step, reason, http_status, at FROM failures ORDER BY rowid")
        for url, site, step, reason, status, at in rows:
            yield {"url": url, "site": site, "step": step, "reason": reason, "http_status": status, "at": at}

    def query(self, sql: str, *args: Any) -> list[tuple]:
        return self.db.execute(sql, args).fetchall()
