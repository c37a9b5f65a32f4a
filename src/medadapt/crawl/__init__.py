"""Crawl: a polite, resumable crawler for medical magazines and doctor–patient Q&A forums.

Sites join as YAML adapters (``medadapt/crawl/adapters/*.yaml`` or the user's own files); the frontier,
seen set and results live in SQLite, raw responses in WARC, so a crawl survives kill -9 and extraction can
be redone without fetching again.
"""
