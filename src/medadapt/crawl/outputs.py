"""The crawl's files: records and failures from the state, ``stats.json`` and the terminal summary."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from medadapt.crawl.state import CrawlState
from medadapt.records.jsonl import write_json, write_jsonl

QA_FILE = "qa.jsonl"
ARTICLES_FILE = "articles.jsonl"
FAILURES_FILE = "failures.jsonl"


def site_stats(state: CrawlState) -> dict[str, dict[str, Any]]:
    """Per site: pages by outcome, HTTP status codes, bytes, records and extraction yield, how Q&A were found."""
    sites: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "fetched": 0, "failed": 0, "refused": 0, "pending": 0, "redirect_aliases": 0, "bytes": 0,
        "status_codes": {}, "pages_by_kind": {}, "qa": 0, "articles": 0, "qa_found_by": {}, "failures_by_step": {},
        "qa_yield": None, "article_yield": None})
    rows = state.query("SELECT site, status, COUNT(*), COALESCE(SUM(bytes), 0) FROM urls WHERE kind='page' GROUP BY site, status")
    names = {"done": "fetched", "failed": "failed", "skipped": "refused", "pending": "pending", "alias": "redirect_aliases"}
    for site, status, count, size in rows:
        sites[site][names[status]] += count
        sites[site]["bytes"] += size
    for site, code, count in state.query("SELECT site, http_status, COUNT(*) FROM urls WHERE http_status IS NOT NULL"
                                         " GROUP BY site, http_status"):
        sites[site]["status_codes"][str(code)] = count
    for site, kind, count in state.query("SELECT site, page_kind, COUNT(*) FROM urls WHERE status='done' AND kind='page'"
                                         " GROUP BY site, page_kind"):
        sites[site]["pages_by_kind"][kind] = count
    for site, kind, count in state.query("SELECT site, kind, COUNT(*) FROM records GROUP BY site, kind"):
        sites[site]["qa" if kind == "qa" else "articles"] = count
    for site, found_by, count in state.query("SELECT site, found_by, COUNT(*) FROM urls WHERE status='done'"
                                             " AND page_kind='qa' GROUP BY site, found_by"):
        sites[site]["qa_found_by"][found_by] = count
    for site, step, count in state.query("SELECT site, step, COUNT(*) FROM failures GROUP BY site, step"):
        sites[site]["failures_by_step"][step] = count
    for site, kind, pages in state.query(
            "SELECT u.site, u.page_kind, COUNT(DISTINCT r.url) FROM urls u JOIN records r"
            " ON r.url = COALESCE(u.final_url, u.url) WHERE u.page_kind IN ('qa', 'article') GROUP BY u.site, u.page_kind"):
        total = sites[site]["pages_by_kind"].get(kind, 0)
        sites[site][f"{kind}_yield"] = round(pages / total, 4) if total else None
    return dict(sites)


def export(state: CrawlState, out: Path, session: dict[str, Any]) -> dict[str, Any]:
    """Write qa.jsonl, articles.jsonl, failures.jsonl and stats.json into ``out``; return the stats."""
    counts = {
        "qa": write_jsonl(out / QA_FILE, state.records("qa")),
        "articles": write_jsonl(out / ARTICLES_FILE, state.records("article")),
        "failures": write_jsonl(out / FAILURES_FILE, state.failures()),
    }
    sites = site_stats(state)
    totals: dict[str, Any] = {key: sum(s[key] for s in sites.values())
                              for key in ("fetched", "failed", "refused", "pending", "bytes")}
    status_codes: dict[str, int] = defaultdict(int)
    for stats in sites.values():
        for code, n in stats["status_codes"].items():
            status_codes[code] += n
    stats = {**counts, **totals, "status_codes": dict(sorted(status_codes.items())), "sites": sites, "session": session}
    write_json(out / "stats.json", stats)
    return stats


def print_summary(console: Console, stats: dict[str, Any]) -> None:
    table = Table(title="crawl")
    for column in ("site", "fetched", "failed", "refused (robots)", "pending", "MB", "status codes", "qa", "articles", "yield"):
        table.add_column(column)
    for name, s in stats["sites"].items():
        codes = " ".join(f"{code}×{n}" for code, n in sorted(s["status_codes"].items()))
        yields = " ".join(f"{kind}:{s[f'{kind}_yield']:.0%}" for kind in ("qa", "article") if s.get(f"{kind}_yield") is not None)
        table.add_row(name, str(s["fetched"]), str(s["failed"]), str(s["refused"]), str(s["pending"]),
                      f"{s['bytes'] / 1e6:.2f}", codes, str(s["qa"]), str(s["articles"]), yields)
    console.print(table)
