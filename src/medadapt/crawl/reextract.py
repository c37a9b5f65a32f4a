"""``--re-extract``: run extraction again over the WARC records, with the current adapters, fetching nothing."""

from __future__ import annotations

from typing import Any

from medadapt.crawl.adapters import SiteAdapter
from medadapt.crawl.pages import process_response
from medadapt.crawl.state import CrawlState
from medadapt.crawl.warc import WarcStore

EXTRACTION_STEPS = ("decode", "extract", "validate", "dropped")


def re_extract(state: CrawlState, warc: WarcStore, sites: dict[str, SiteAdapter]) -> dict[str, Any]:
    pages = records = 0
    for url, site, name, offset, _, fetched_at, _ in list(state.stored_pages()):
        adapter = sites.get(site)
        if adapter is None:
            continue  # a site no longer in the recipe: its records stay as they were
        stored = warc.read(name, offset)
        processed = process_response(adapter, url, "page", stored.status, stored.header("content-type"),
                                     stored.body, fetched_at)
        with state.db:
            state.db.execute("BEGIN")
            state.replace_results(url, site, processed.records, processed.failures, fetched_at, stored.status,
                                  steps=EXTRACTION_STEPS)
            state.db.execute("UPDATE urls SET page_kind=? WHERE COALESCE(final_url, url)=?", (processed.page_kind, url))
        pages += 1
        records += len(processed.records)
    return {"re_extracted_pages": pages, "records": records}

