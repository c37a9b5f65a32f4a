"""Raw responses as WARC (warcio), so extraction can be redone without fetching again.

Each crawl session appends to a new gzipped WARC file. On start, files are cut back to the end of the last
record the SQLite state committed: a record half-written by a killed process is removed, and its URL, still
pending, is fetched again. Pages are read back by (file, offset) from the state, never by scanning.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

#: A new file after this many bytes, so that one file stays easy to copy and to read with other WARC tools.
MAX_FILE_BYTES = 1_000_000_000
#: Headers that describe the transfer, not the body we keep (httpx has already decoded it).
_TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass
class StoredResponse:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class WarcStore:
    def __init__(self, folder: Path, committed_ends: dict[str, int]):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for name, end in committed_ends.items():
            path = folder / name
            if path.is_file() and path.stat().st_size > end:
                os.truncate(path, end)
        # a file no committed page points to is left as it is (never appended to, never read): a crawl state
        # deleted by hand must not take the raw responses with it
        numbers = [re.fullmatch(r"crawl-(\d+)\.warc\.gz", p.name) for p in folder.iterdir()]
        self._number = max((int(m.group(1)) for m in numbers if m), default=-1)
        self.name = ""
        self._handle: io.BufferedWriter | None = None

    @staticmethod
    def serialize(url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        """One gzipped response record as bytes; thread-safe, so compression and digests run off the event loop."""
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        kept = [(k, v) for k, v in headers if k.lower() not in _TRANSFER_HEADERS]
        kept.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(f"{status} {reason}".strip(), kept, protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http_headers))
        return buffer.getvalue()

    def append(self, record: bytes) -> tuple[str, int, int]:
        """Append one serialized record; return (file, offset, length) for the state to commit."""
        if self._handle is None or self._handle.tell() >= MAX_FILE_BYTES:
            self.close()
            self._number += 1
            self.name = f"crawl-{self._number:05d}.warc.gz"
            self._handle = (self.folder / self.name).open("ab")
        offset = self._handle.tell()
        self._handle.write(record)
        self._handle.flush()  # in the OS's hands: survives kill -9 of this process
        return self.name, offset, len(record)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def read(self, name: str, offset: int) -> StoredResponse:
        with (self.folder / name).open("rb") as handle:
            handle.seek(offset)
            record = next(iter(ArchiveIterator(handle)))
            return StoredResponse(
                url=record.rec_headers.get_header("WARC-Target-URI"),
                status=int(record.http_headers.get_statuscode()),
                headers=list(record.http_headers.headers),
                body=record.content_stream().read(),
            )
