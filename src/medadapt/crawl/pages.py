"""One stored or fetched response → records, failures and links (the same for a live crawl and --re-extract)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from medadapt.crawl.adapters import SiteAdapter
from medadapt.crawl.decoding import UndecodableError, decode_html
from medadapt.crawl.extract import extract_page, sitemap_links
from medadapt.crawl.records import validate_record

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Processed:
    page_kind: str
    records: list[dict[str, Any]] = field(default_factory=list)  # {"id", "kind", "record"}
    failures: list[tuple[str, str]] = field(default_factory=list)  # (step, reason)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (url, kind page|sitemap, found_by)
    decoding_note: str | None = None


def process_response(adapter: SiteAdapter, url: str, kind: str, status: int, content_type: str | None,
                     body: bytes, fetched_at: str) -> Processed:
    if kind == "sitemap":
        pages, nested = sitemap_links(adapter, url, body)
        return Processed("sitemap", links=[(u, "page", "sitemap") for u in pages] + [(u, "sitemap", "sitemap") for u in nested])
    media_type = (content_type or "text/html").split(";")[0].strip().lower()
    if media_type not in HTML_TYPES:
        return Processed("other", failures=[("extract", f"not HTML (Content-Type {media_type})")])
    try:
        decoded = decode_html(body, content_type, adapter.lang)
    except UndecodableError as exc:
        return Processed("undecodable", failures=[("decode", str(exc))])
    base = {"fetched_at": fetched_at, "content_hash": "sha256:" + hashlib.sha256(body).hexdigest(), "http_status": status}
    try:
        page = extract_page(adapter, url, decoded.text, base)
    except Exception as exc:  # noqa: BLE001 — a page the parsers cannot read is one failure, never a crash
        return Processed("unreadable", failures=[("extract", f"{type(exc).__name__}: {exc}")])
    failures = [("extract", p) for p in page.problems] + [("dropped", d) for d in page.dropped]
    processed = Processed(page.kind, failures=failures, decoding_note=decoded.note)
    found_by = "related" if page.kind == "qa" and adapter.qa and adapter.qa.related else "link"
    processed.links = [(link, "page", found_by) for link in page.links]
    for record in page.records:
        try:
            processed.records.append({"id": record["id"], "kind": page.kind, "record": validate_record(page.kind, record)})
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "(record)"
            processed.failures.append(("validate", f"{where}: {error['msg']}"))
    return processed
