"""URL normalisation, so that one page is fetched once however it is linked."""

from __future__ import annotations

import functools
import hashlib
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import courlan


@functools.lru_cache(maxsize=200_000)
def normalize(url: str, base: str | None = None) -> str | None:
    """Absolute, fragment-free, courlan-normalised form of ``url`` (relative to ``base``); None if not http(s).

    courlan lower-cases scheme and host, drops default ports, sorts query parameters and quotes
    non-ASCII paths; ``urljoin`` resolves ``..`` segments. Cached: nav and related links repeat page after page.
    """
    absolute = urldefrag(urljoin(base, url.strip()) if base else url.strip())[0]
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in ("http", "https"):
        return None
    if "/." in parts.path:  # urljoin leaves dot segments alone in an already absolute URL
        path = urlsplit(urljoin("http://host/", parts.path)).path
        absolute = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    try:
        return courlan.normalize_url(absolute, strict=False)
    except ValueError:
        return None


def host_of(url: str) -> str:
    """``host[:port]`` — the unit of politeness and of robots.txt."""
    return urlsplit(url).netloc


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def record_id(site: str, url: str, index: int | None = None) -> str:
    """Stable across hosts and ports (a mirror, a fixture on another port): site + hash of path?query."""
    digest = hashlib.sha1(path_and_query(url).encode("utf-8")).hexdigest()[:12]
    return f"{site}-{digest}" + (f"-{index}" if index is not None else "")
