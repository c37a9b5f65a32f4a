"""Hypothesis strategies for malformed data files in every importer format.

A case starts from rows that are nearly right for one format (a record kind or a shipped mapping: its
columns, with values of the right shape most of the time), then breaks them the ways real files break:
missing and extra columns, wrong types, huge or empty fields, Persian/Arabic letter variants, then the file
itself: wrong encoding (cp1256, latin-1, UTF-16), a BOM, truncation, binary junk, an empty file.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml
from hypothesis import strategies as st

from medadapt.records.kinds import RECORD_KINDS
from medadapt.records.mapping import Column, is_kind, load_mapping, shipped_mappings

FORMATS = [*RECORD_KINDS, *shipped_mappings()]
MCQA_FORMATS = ["mcqa", *(name for name in shipped_mappings() if load_mapping(name).kind == "mcqa")]
FILE_TYPES = ["csv", "xlsx", "json", "jsonl", "parquet"]  # csv: comma- or tab-separated (.tsv)
# What real Persian/Arabic files carry: Arabic ي/ك, tatweel, ZWNJ, RTL marks, BOMs, both digit sets.
VARIANTS = ["ي", "ك", "ی", "ک", "ى", "\u0640", "\u200c", "\u200f", "\ufeff", "۱", "١", "الف", "ب", "ج", "د",
            "mmlu-anatomy_translation", "mmlu-professional_medicine\u0640translation", " x ", "\t", "\r\n", "\x00"]
SURROGATES = ["\ud800", "a\udfffb"]  # lone surrogates: JSON can spell them, UTF-8 cannot

text = st.text(max_size=24) | st.sampled_from(VARIANTS)
words = st.text(min_size=1, max_size=24).filter(str.strip) | st.sampled_from(["کدام یک؟", "Which one?", "الف) قلب"])
scalar = st.one_of(text, st.integers(-3, 10), st.integers(), st.floats(), st.booleans(), st.none(),
                   st.sampled_from(SURROGATES))
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=3),
                     max_leaves=8)
huge = st.builds(lambda piece, n: piece * n, st.sampled_from(["a", "ی ", "\n", '"', ",", "\u200c"]),
                 st.integers(2_000, 60_000))
VALID_ANSWERS = {"one_based": ["1", "2", "4", 3, 2.0], "zero_based": ["0", "1", "3", 2],
                 "letter": ["A", "b", "(C)", " d "], "persian_letter": ["الف", "ب", "ج", "د)"], "text": ["x"]}
ANSWER_KEYS = ["1", "2", "4", "0", "5", "-1", "2.0", "2.5", "A", "b", "(C)", " d ", "AB", "Z", "الف", "ب", "ج", "د",
               "ي", "ه", 1, 3, 0, 7, 2.0, True]
BIO = ["O", "B-DIS", "I-DIS", "B-", "X", ""]


@dataclass
class Columns:
    """The columns a format reads, each with the record field it feeds (``choice``/``keep`` for extras)."""

    kind: str
    fields: dict[str, str]
    role_key: str = "role"
    content_key: str = "content"
    roles: tuple[str, ...] = ("system", "user", "assistant")
    item: str | None = None
    answer_format: str = "zero_based"


def columns_of(fmt: str) -> Columns:
    """What a record kind (its fields) or a shipped mapping (its columns, option columns, kept columns) reads."""
    if is_kind(fmt):
        return Columns(fmt, {name: name for name in RECORD_KINDS[fmt].model_fields})
    mapping = load_mapping(fmt)
    fields: dict[str, str] = {}
    for name, spec in mapping.fields.items():
        column = Column(column=spec) if isinstance(spec, str) else spec
        if column.column:
            fields[column.column] = name
    if mapping.choices:
        for column in mapping.choices.columns or [mapping.choices.column]:
            fields[column] = "choice" if mapping.choices.columns else f"choices-{mapping.choices.layout}"
        if "answer" not in mapping.fields:
            fields["answer"] = "answer"
    for name in mapping.keep:
        fields[name] = "keep"
    if mapping.layout == "alpaca":
        for name in ("instruction", "input", "output", "system", "history"):
            fields.setdefault(name, name)
    roles = tuple(mapping.turns.roles)
    return Columns(mapping.kind, fields, mapping.turns.role_key, mapping.turns.content_key, roles,
                   mapping.choices.item if mapping.choices else None, mapping.answer_format)


def _as_json_text(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Lists and dicts as real values or as the JSON text a CSV cell holds."""
    return strategy | strategy.map(lambda v: json.dumps(v, ensure_ascii=False))


def _turns(cols: Columns) -> st.SearchStrategy:
    role = st.sampled_from([*cols.roles, "tool", "", "User"])
    turn = st.fixed_dictionaries({cols.role_key: role, cols.content_key: text | scalar})
    return _as_json_text(st.lists(turn | value, max_size=5))


def plausible(field: str, cols: Columns) -> st.SearchStrategy:
    """Values of the shape ``field`` wants: a row made of these alone mostly imports."""
    options = st.lists(words, min_size=2, max_size=6)
    return {
        "id": st.integers(0, 4) | text,
        "lang": st.sampled_from(["en", "fa", "ar"]),
        "source": st.sampled_from(["exam", "", "web"]) | text,
        "choice": words,
        "choices": options,
        "choices-list": _as_json_text(options | st.lists(st.fixed_dictionaries({cols.item or "text": words}),
                                                         min_size=2, max_size=5)),
        "choices-dict": _as_json_text(st.dictionaries(st.sampled_from(list("ABCDEabcd") + ["1", ""]), words,
                                                      min_size=2, max_size=5)),
        "answer": (st.sampled_from(VALID_ANSWERS[cols.answer_format]) | st.sampled_from(ANSWER_KEYS)
                   if cols.kind == "mcqa" else words),
        "messages": _turns(cols),
        "history": _as_json_text(st.lists(st.lists(words, min_size=2, max_size=2), max_size=2)),
        "tokens": _as_json_text(st.lists(words, min_size=1, max_size=3)) | st.just("درد سر"),
        "tags": _as_json_text(st.lists(st.sampled_from(BIO[:3]), max_size=3)) | st.sampled_from(["O O", "B-DIS I-DIS"]),
        "subject": st.sampled_from(VARIANTS[15:17]),
        "keep": st.integers(0, 2000) | words,
    }.get(field, words)


@lru_cache(maxsize=None)
def good_row(fmt: str) -> st.SearchStrategy:
    """Rows whose every value has the shape ``fmt`` wants (the strategy is built once per format)."""
    cols = columns_of(fmt)
    return st.fixed_dictionaries({column: plausible(field, cols) for column, field in cols.fields.items()})


BREAKS = st.sampled_from(["drop", "value", "value", "empty", "huge", "extra", "lang"])
BAD = {"value": value, "empty": st.sampled_from(["", " ", "\u200c", None]), "huge": huge,
       "lang": st.sampled_from(["e", "english", "FA", "fa-IR"])}


@st.composite
def rows(draw, fmt: str) -> list[dict[str, Any]]:
    """0-6 rows of ``fmt``'s columns, half of them broken: a column dropped, a value of the wrong type, an
    empty, blank or huge value, a junk column added."""
    out = []
    for _ in range(draw(st.integers(0, 6))):
        row = dict(draw(good_row(fmt)))
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
            column = draw(st.sampled_from(list(row) or [""]))
            how = draw(BREAKS)
            if how == "drop":
                row.pop(column, None)
            elif how == "extra":  # a column of its own, or one other rows have too (of another type)
                row[draw(st.sampled_from(["note", "note", "extra"]) | text)] = draw(value)
            else:
                row["lang" if how == "lang" else column] = draw(BAD[how])
        out.append(row)
    return out


def cell(v: Any) -> str:
    """A value as a CSV cell holds it: lists and dicts as JSON text."""
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else str(v)


def encode(body: str, encoding: str) -> bytes:
    """``body`` in ``encoding``: what cp1256 or latin-1 cannot spell becomes "?", lone surrogates pass."""
    return body.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")


def csv_bytes(table: list[dict[str, Any]], delimiter: str, encoding: str, ragged: bool) -> bytes:
    """A header of every column any row has; ``ragged``: each row one cell short (or no header at all)."""
    header = list(dict.fromkeys(k for row in table for k in row))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    if header or not ragged:
        writer.writerow(header)
    for row in table:
        values = [cell(row.get(h)) for h in header]
        writer.writerow(values[:-1] if ragged and values else values + ([""] if ragged else []))
    return encode(out.getvalue(), encoding)


def json_bytes(table: list[dict[str, Any]], shape: str, encoding: str) -> bytes:
    """The rows as a JSON list, inside an object of splits, nested too deep, or no rows at all."""
    if shape == "deep":  # nested past any parser's recursion limit
        return encode("[" * 100_000 + json.dumps(table) + "]" * 100_000, encoding)
    data: Any = {"list": table, "split": {"train": table, "n": len(table)}, "scalar": len(table),
                 "nested": [table], "empty": {}}[shape]
    return encode(json.dumps(data, ensure_ascii=encoding == "ascii"), "utf-8" if encoding == "ascii" else encoding)


def jsonl_bytes(table: list[dict[str, Any]], junk: list[str], encoding: str) -> bytes:
    lines = [json.dumps(row, ensure_ascii=False) for row in table] + junk
    return encode("\n".join(lines) + "\n", encoding)


def _xlsx_cell(v: Any) -> Any:
    """A value openpyxl can write (no control characters, no lone surrogates, within Excel's cell size)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(v, bool) or v is None or (isinstance(v, (int, float)) and abs(v) < 1e15 and v == v):
        return v
    return ILLEGAL_CHARACTERS_RE.sub("", cell(v).encode("utf-8", "replace").decode("utf-8"))[:32_000]


def xlsx_bytes(sheets: list[list[dict[str, Any]]], blank_header: bool) -> bytes:
    """A workbook with a sheet per table (none: one empty sheet); ``blank_header``: column 1 has no name."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for i, table in enumerate(sheets):
        sheet = book.create_sheet(f"Sheet{i + 1}")
        header = list(dict.fromkeys(k for row in table for k in row))
        sheet.append([None if blank_header and j == 0 else _xlsx_cell(h) for j, h in enumerate(header)])
        for row in table:
            sheet.append([_xlsx_cell(row.get(h)) for h in header])
    if not sheets:
        book.create_sheet("Empty")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parquet_bytes(table: list[dict[str, Any]], binary_column: bool) -> bytes:
    """Columns keep their types where pyarrow can; a column of mixed types is written as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = list(dict.fromkeys(k for row in table for k in row))
    columns = {}
    for name in header:
        values = [row.get(name) for row in table]
        try:
            columns[str(name)] = pa.array(values)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            columns[str(name)] = pa.array([None if v is None else cell(v).encode("utf-8", "replace").decode()
                                           for v in values])
    if binary_column:
        columns["blob"] = pa.array([b"\xff\x00junk"] * len(table), pa.binary())
    out = io.BytesIO()
    try:
        pq.write_table(pa.table(columns) if columns else pa.table({"empty": pa.array([], pa.string())}), out)
    except pa.ArrowException:  # e.g. a struct with no fields, which Parquet cannot store: write text
        out = io.BytesIO()
        pq.write_table(pa.table({n: pa.array([cell(v) for v in c.to_pylist()]) for n, c in columns.items()}), out)
    return out.getvalue()


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """The file as written (most draws), or broken: truncated, BOM'd, junk inserted, junk only, empty."""
    how = draw(st.sampled_from(["intact"] * 10 + ["truncate", "bom", "junk", "only_junk", "empty"]))
    if how == "truncate":
        return data[:draw(st.integers(0, max(len(data) - 1, 0)))]
    if how == "bom":
        return draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])) + data
    if how == "junk":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=40)) + data[at:]
    if how == "only_junk":
        return draw(st.binary(max_size=200))
    return b"" if how == "empty" else data


ENCODINGS = st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "cp1256", "latin-1", "utf-16"])


@st.composite
def data_file(draw, fmt_name: str | None = None, formats: list[str] = FORMATS) -> tuple[str, str, bytes]:
    """(format to import with, suffix, file bytes), for one file type (``fmt_name``) or any, with rows made
    for one of ``formats``."""
    fmt = draw(st.sampled_from(formats))
    table = draw(rows(fmt))
    kind = fmt_name or draw(st.sampled_from(FILE_TYPES))
    suffix = f".{kind}"
    if kind == "csv":
        delimiter = draw(st.sampled_from([","] * 5 + [";", "\t", "\t"]))
        suffix = ".tsv" if delimiter == "\t" and draw(st.integers(0, 3)) else suffix
        data = csv_bytes(table, delimiter, draw(ENCODINGS), draw(st.integers(0, 3)) == 0)
    elif kind == "json":
        shape = draw(st.sampled_from(["list", "list", "list", "split", "scalar", "nested", "empty", "deep"]))
        data = json_bytes(table, shape, draw(st.sampled_from(["utf-8", "ascii", "cp1256", "utf-16"])))
    elif kind == "jsonl":
        junk = draw(st.lists(st.sampled_from(["", "[1, 2]", "{", "null", '"x"', "\ufeff{}", "{}", '{"a": ' * 50_000])
                             | text, max_size=3))
        data = jsonl_bytes(table, junk, draw(ENCODINGS))
    elif kind == "xlsx":
        sheets = [table] + draw(st.lists(rows(fmt), max_size=2))
        data = xlsx_bytes(sheets[:draw(st.integers(0, len(sheets)))], draw(st.booleans()))
    else:
        data = parquet_bytes(table, draw(st.integers(0, 3)) == 0)
    # now and then, read with another format than the rows were made for
    read_as = fmt if draw(st.integers(0, 5)) else draw(st.sampled_from(FORMATS))
    return read_as, suffix, draw(damaged(data))


REFERENCES = ["run://nosuch/x.jsonl", "run://train/out.jsonl", "run://", "missing.jsonl", "medadapt://demo/none.jsonl",
              "medadapt://", "", "/", "~/nothing.csv", "../../../etc/passwd", "no-such-mapping", "qa", "x" * 300]
NOT_YAML_CONFIGS = [
    "[" * 3000, "{a: " * 3000, "a: &x [*x]", "- name: demo\n- languages: [en]", "42", "null", "~", "''", "\t- x",
    "name: [unclosed", "!!python/object/apply:os.system [ls]", "%YAML 9.9\n---\na: 1", "name: !!binary aGVsbG8=",
    "---\nname: a\n---\nname: b", "name: demo\nname: again", "? [a, b]\n: c", "\ufeffname: demo",
    "name: &a demo\nlanguages: *b", "\x00\x01\x02", "languages:\n  - en\n - fa",
    "kind: mcqa\nfields: {a: {pattern: x}}"]


@st.composite
def mutated(draw, tree: Any) -> Any:
    """``tree`` with 1-3 edits at random depths: a wrong value, a reference to nothing, a deletion, an
    unknown key."""
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(1, 3))):
        parent, key = None, None
        node = tree
        while isinstance(node, (dict, list)) and node and (parent is None or draw(st.integers(0, 2))):
            parent, key = node, draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
            node = node[key]
        how = draw(st.sampled_from(["value", "reference", "delete", "unknown"]))
        if parent is None:
            return draw(value)
        if how == "delete":
            del parent[key]
        elif how == "unknown" and isinstance(parent, dict):
            parent[draw(text)] = draw(value)
        else:
            parent[key] = draw(st.sampled_from(REFERENCES) if how == "reference" else value)
    return tree


@st.composite
def yaml_bytes(draw, base: Any) -> bytes:
    """A YAML config file (a recipe, a mapping): ``base`` edited (most draws), or no config at all."""
    kind = draw(st.sampled_from(["edited"] * 6 + ["junk", "text"]))
    if kind == "edited":
        body = yaml.safe_dump(draw(mutated(base)), allow_unicode=True, sort_keys=False)
    elif kind == "junk":
        body = draw(st.sampled_from(NOT_YAML_CONFIGS))
    else:
        body = draw(st.text(max_size=200))
    encoding = draw(st.sampled_from(["utf-8"] * 8 + ["utf-16", "cp1256"]))
    return draw(damaged(body.encode(encoding, errors="replace")))
