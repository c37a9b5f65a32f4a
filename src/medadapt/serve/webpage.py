"""The chat page ``medadapt serve`` shows at ``/``: plain HTML, CSS and JavaScript shipped in ``serve/page/``.

A nurse or a patient opens it in a browser on the same machine; it talks to this server's own
``/v1/chat/completions`` stream, so nothing leaves the machine and nothing is fetched from elsewhere (its
Content-Security-Policy allows this server only, so a page edited to load a CDN would fail visibly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PAGE_DIR = Path(__file__).with_name("page")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def add_page(app: Any) -> None:
    """Serve the page at ``/`` and its script and style under ``/page/``."""
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    index = (PAGE_DIR / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def page():
        return HTMLResponse(index, headers=HEADERS)

    app.mount("/page", StaticFiles(directory=PAGE_DIR), name="page")
