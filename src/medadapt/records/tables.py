"""Read any supported file as rows of plain values: CSV, XLSX (every sheet), JSON, JSONL, Parquet,
Hugging Face ``datasets`` folders saved with ``save_to_disk``, and CoNLL/BIO token files.

A row that cannot be read (invalid UTF-8, a CSV line with the wrong number of fields, a JSONL line that is
not a JSON object) comes back with an ``error`` instead of being skipped, so the importer can quarantine it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt.errors import DataError

TABLE_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".parquet": "parquet", ".conll": "conll", ".bio": "conll",
}
REPLACEMENT = "\ufffd"
# JSON can escape a lone surrogate (\ud800), which is no character: UTF-8 cannot write it back out
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass
class RawRow:
    """One row as read: ``where`` names the file (and sheet or split), ``row`` its number there."""

    where: str
    row: int
    data: dict[str, Any] = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (field, message) when the row itself could not be read
    part: str = ""  # the sheet (XLSX), list (JSON) or split (datasets) the row came from
    line: str | None = None  # a JSONL line that is not a JSON object, kept as it was for the quarantine

    @property
    def original(self) -> Any:
        """The row as the file holds it: its values, or the line that could not be parsed."""
        return self.data if self.line is None else self.line


def file_format(path: Path) -> str:
    if path.is_dir():
        return "hf"
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"unknown file type {path.suffix or '(none)'} (supported: "
                        f"{', '.join(sorted(TABLE_SUFFIXES))}, or a datasets folder)", file=str(path))
    return fmt


def read_rows(path: Path, sheets: list[str] | None = None) -> Iterator[RawRow]:
    """Every row of ``path``; the reader is chosen by the file's suffix (a folder: ``datasets`` on disk)."""
    if not path.exists():
        raise DataError("file not found", file=str(path))
    readers = {"csv": _csv, "tsv": _csv, "xlsx": _xlsx, "json": _json, "jsonl": _jsonl, "parquet": _parquet,
               "hf": _hf_on_disk, "conll": _conll}
    fmt = file_format(path)
    if fmt == "xlsx":
        return _xlsx(path, sheets)
    return readers[fmt](path)


def _decode(path: Path) -> tuple[str, bool]:
    """The file's text and whether it had bytes that are not UTF-8 (replaced by U+FFFD)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8-sig", errors="replace"), True


def _invalid_utf8(values: dict[str, Any]) -> tuple[str, str] | None:
    for number, (name, value) in enumerate(values.items(), start=1):
        if isinstance(value, str) and REPLACEMENT in value:
            return str(name) or f"column {number}", "invalid UTF-8 bytes in this field"
    return None


def _csv(path: Path) -> Iterator[RawRow]:
    text, had_bad_bytes = _decode(path)
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    header = next(reader, None)
    if header is None:
        return
    for number, values in enumerate(reader, start=2):  # spreadsheet numbering: the header is row 1
        if not any(v.strip() for v in values):
            continue
        row = RawRow(str(path), number, dict(zip(header, values)))
        if len(values) != len(header):
            row.error = ("(row)", f"{len(values)} fields but the header has {len(header)}")
        elif had_bad_bytes:
            row.error = _invalid_utf8(row.data)
        yield row


def _cell(value: Any) -> Any:
    """Spreadsheet numbers as the text a user sees: 3.0 → "3"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _xlsx(path: Path, sheets: list[str] | None) -> Iterator[RawRow]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged or non-xlsx file
        raise DataError(f"cannot open as XLSX: {exc}", file=str(path)) from None
    names = book.sheetnames if sheets is None else sheets
    missing = [s for s in names if s not in book.sheetnames]
    if missing:
        raise DataError(f"no sheet {', '.join(missing)} (sheets: {', '.join(book.sheetnames)})", file=str(path))
    for name in names:
        rows = book[name].iter_rows(values_only=True)
        header = [_cell(v) for v in next(rows, ())]
        where = f"{path}: sheet {name}"
        for number, values in enumerate(rows, start=2):
            cells = [_cell(v) for v in values]
            if not any(str(c).strip() for c in cells):
                continue
            row = RawRow(where, number, {h: c for h, c in zip(header, cells) if h}, part=name)
            stray = [i + 1 for i, c in enumerate(cells) if (i >= len(header) or not header[i]) and str(c).strip()]
            if stray:
                row.error = ("(row)", f"values in column(s) {', '.join(map(str, stray))} that have no header")
            yield row
    book.close()


def _json(path: Path) -> Iterator[RawRow]:
    text, had_bad_bytes = _decode(path)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise DataError(f"invalid JSON: {exc}", file=str(path)) from None
    if isinstance(data, dict):  # {"data": [...]} or {"train": [...]}: the lists inside, each named
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        if not lists:
            raise DataError("expected a list of objects (or an object holding such lists)", file=str(path))
        items = [(key, value) for key, value in lists.items()]
    elif isinstance(data, list):
        items = [("", data)]
    else:
        raise DataError(f"expected a list of objects, got {type(data).__name__}", file=str(path))
    surrogates = bool(SURROGATE_ESCAPE.search(text))
    for part, rows in items:
        where = f"{path}: {part}" if part else str(path)
        for number, value in enumerate(rows, start=1):
            row = _object_row(where, number, value, had_bad_bytes, surrogates)
            row.part = part
            yield row


def _object_row(where: str, number: int, value: Any, check_utf8: bool, check_surrogates: bool = False) -> RawRow:
    broken = None
    if check_surrogates:
        value, broken = _without_lone_surrogates(value)
    if not isinstance(value, dict):
        return RawRow(where, number, {"value": value}, ("(row)", f"expected a JSON object, got {type(value).__name__}"))
    row = RawRow(where, number, value)
    if broken:
        row.error = (broken, "a lone surrogate escape (\\ud800-\\udfff) is not text")
    elif check_utf8:
        row.error = _invalid_utf8(value)
    return row


def _without_lone_surrogates(value: Any) -> tuple[Any, str | None]:
    """``value`` with each lone surrogate replaced by U+FFFD, and the field that held the first one: the row
    is refused, and its copy in the quarantine file must still be writable as UTF-8."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
        return value, None
    except UnicodeEncodeError:
        clean = json.loads(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
    if not isinstance(value, dict):
        return clean, "(row)"
    for (key, item), new_key in zip(value.items(), clean):
        if key != new_key or json.dumps(item, ensure_ascii=False) != json.dumps(clean[new_key], ensure_ascii=False):
            return clean, new_key
    return clean, "(row)"


def _jsonl(path: Path) -> Iterator[RawRow]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield RawRow(str(path), number, error=("(row)", "invalid UTF-8 bytes in this line"),
                             line=raw.decode("utf-8", errors="replace").rstrip("\n"))
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as exc:
                yield RawRow(str(path), number, error=("(row)", f"invalid JSON: {exc}"), line=line.rstrip("\n"))
                continue
            yield _object_row(str(path), number, value, False, bool(SURROGATE_ESCAPE.search(line)))


def _parquet(path: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow's errors for a damaged file vary by version
        raise DataError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    for number, value in enumerate(table.to_pylist(), start=1):
        row = RawRow(str(path), number)
        for name, item in value.items():
            if item is None:
                continue
            try:
                row.data[name] = _plain(item)
            except UnicodeDecodeError:
                row.data[name] = _plain(item, "replace")
                row.error = row.error or (name, "binary data that is not UTF-8 text")
        yield row


def _plain(value: Any, errors: str = "strict") -> Any:
    """A Parquet value as JSON-like data. Parquet gives every row every column (null where a row had none):
    those nulls are dropped again. Binary is read as UTF-8 text; dates, times and decimals as the text a
    spreadsheet shows, so that every row can be written to JSONL (records, quarantine)."""
    if isinstance(value, dict):
        return {k: _plain(v, errors) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v, errors) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _hf_on_disk(path: Path) -> Iterator[RawRow]:
    from datasets import Dataset, load_from_disk

    try:
        loaded = load_from_disk(str(path))
    except Exception as exc:  # FileNotFoundError or datasets' own errors for a folder that is not a dataset
        raise DataError(f"not a datasets folder saved with save_to_disk: {exc}", file=str(path)) from None
    splits = {"": loaded} if isinstance(loaded, Dataset) else dict(loaded)
    for split, dataset in splits.items():
        where = f"{path}: split {split}" if split else str(path)
        for number, value in enumerate(dataset, start=1):
            yield RawRow(where, number, dict(value), part=split)


def _conll(path: Path) -> Iterator[RawRow]:
    """CoNLL/BIO: one ``token ... tag`` line per token, a blank line between sentences; row = sentence."""
    text, had_bad_bytes = _decode(path)
    tokens: list[str] = []
    tags: list[str] = []
    number = 0
    for line in [*text.splitlines(), ""]:
        parts = line.split()
        if parts and parts[0] != "-DOCSTART-":
            tokens.append(parts[0])
            tags.append(parts[-1] if len(parts) > 1 else "")
            continue
        if tokens:
            number += 1
            row = RawRow(str(path), number, {"tokens": tokens, "tags": tags})
            if "" in tags:
                row.error = ("tags", f"token {tags.index('') + 1} has no tag")
            elif had_bad_bytes and any(REPLACEMENT in t for t in tokens):
                row.error = ("tokens", "invalid UTF-8 bytes in this sentence")
            yield row
            tokens, tags = [], []
