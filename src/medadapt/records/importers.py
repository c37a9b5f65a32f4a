"""Files in the field's formats → canonical records, through a mapping (or none, for canonical files).

Every row either becomes a record or lands in ``rejected`` with file, row, field and reason: a missing
column, an answer outside the options, an empty question, a duplicate id, invalid UTF-8. Good rows still
import when bad ones are found.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from medadapt.records.answers import answer_index, answer_indices
from medadapt.records.kinds import RECORD_KINDS
from medadapt.records.mapping import Column, Mapping, is_kind, load_mapping
from medadapt.records.quarantine import FirstIds, RejectedRow, rejection
from medadapt.records.tables import RawRow, read_rows
from medadapt.text.fold import FIELD, fold

OPTIONAL_TEXT = {"explanation", "subject", "topic", "url", "title", "system"}
# id, source, lang and the optional text columns are used when a row has them (some splits of a data set lack
# e.g. the explanation); otherwise the mapping's default, a generated id, or no value
IDENTITY = {"id", "source", "lang"}
LAYOUT_FIELDS = {"alpaca": {"instruction", "input", "output", "system", "history"}, "turns": {"messages", "system"}}


class FieldProblem(ValueError):
    """A row that cannot be mapped; carries the record field at fault."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


@dataclass
class ImportResult:
    kind: str
    records: list[Any] = field(default_factory=list)  # records of the kind (or of the ``model`` asked for)
    rejected: list[RejectedRow] = field(default_factory=list)
    rows_by_part: Counter[str] = field(default_factory=Counter)
    left_out: dict[str, int] = field(default_factory=dict)  # valid records a recipe chose not to use, by reason

    @property
    def rows(self) -> int:
        return len(self.records) + len(self.rejected)  # the rows a recipe uses (not those it left out)


def import_file(path: Path, fmt: str, *, lang: str | None = None, source: str | None = None,
                base_dir: Path | None = None, stage: str = "data", ids: FirstIds | None = None,
                model: type[BaseModel] | None = None) -> ImportResult:
    """Read ``path`` as ``fmt`` (a record kind, a shipped mapping name or a mapping YAML file): the one
    reader of records, for every stage and command.

    ``lang`` and ``source`` override what the file or mapping says (a recipe's per-source settings).
    ``ids`` is shared by the calls whose files must not repeat an id between them (default: this file's
    own). ``model`` validates canonical rows instead of the kind's record (decontamination accepts any
    row with a question).
    """
    mapping = None if is_kind(fmt) else load_mapping(fmt, base_dir)
    kind = fmt if mapping is None else mapping.kind
    model = model or RECORD_KINDS[kind]
    ids = ids if ids is not None else FirstIds()
    result = ImportResult(kind)

    def reject(raw: RawRow, field_name: str, message: str, record: Any, rule: str = "invalid_row") -> None:
        result.rejected.append(rejection(raw.where, raw.row, field_name, message, record, stage=stage, step="read",
                                         rule=rule))

    for raw in read_rows(path, mapping.sheets if mapping else None):
        result.rows_by_part[raw.part] += 1
        if raw.error:
            reject(raw, *raw.error, raw.original)
            continue
        try:
            values = _canonical(raw, path) if mapping is None else _mapped(raw, mapping, path)
            if source:
                values["source"] = source
            if lang:
                values["lang"] = lang
            record = model.model_validate(values)
        except FieldProblem as exc:
            reject(raw, exc.field, str(exc), raw.data)
            continue
        except ValidationError as exc:
            reject(raw, *_problem(exc, raw), raw.data)
            continue
        duplicate = ids.duplicate(str(record.id), str(path))
        if duplicate:
            reject(raw, "id", duplicate, raw.data, rule="duplicate_id")
            continue
        result.records.append(record)
    return result


def _problem(exc: ValidationError, raw: RawRow) -> tuple[str, str]:
    """The field and message to reject a row for. Missing content fields (question, answer, …) come first and
    together, with the row's columns: a file with the wrong columns is then named for what it lacks, not for
    the ``source`` a canonical row also lacks."""
    errors = exc.errors()
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing" and len(e["loc"]) == 1]
    content = [name for name in missing if name not in IDENTITY]
    if content:
        return content[0], f"missing {', '.join(content)} (columns: {', '.join(map(str, raw.data))})"
    first = next((e for e in errors if not (e["loc"] and e["loc"][0] in IDENTITY)), errors[0])
    return ".".join(str(p) for p in first["loc"]) or "(row)", first["msg"]


def _row_id(raw: RawRow, path: Path) -> str:
    """A stable id for rows that have none: file stem, sheet/split, row number."""
    return ":".join(p for p in (path.stem, raw.part, str(raw.row)) if p)


def _canonical(raw: RawRow, path: Path) -> dict[str, Any]:
    values = dict(raw.data)
    if values.get("id") in (None, ""):
        values["id"] = _row_id(raw, path)
    return values


def _value(raw: RawRow, spec: Column, name: str) -> Any:
    if spec.value is not None:
        return spec.value
    if spec.column not in raw.data:
        raise FieldProblem(name, f"missing column {spec.column!r} (columns: {', '.join(map(str, raw.data))})")
    value = raw.data[spec.column]
    if spec.pattern and value not in (None, ""):
        # matched on folded text (Arabic ي/ك, ZWNJ or space, a stray tatweel for `_`, trailing spaces), so the
        # letter variants real Persian files carry match the pattern written once
        match = re.search(fold(spec.pattern, FIELD), fold(str(value), FIELD))
        if not match:
            raise FieldProblem(name, f"{value!r} does not match {spec.pattern!r}")
        value = match.group(1)
    return value


def _structured(value: Any, name: str) -> Any:
    """Lists and dicts stored as JSON text in a CSV/XLSX cell are parsed; real ones pass through."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
            raise FieldProblem(name, f"invalid JSON in cell: {exc}") from None
    return value


def required_columns(mapping: Mapping) -> list[tuple[str, str]]:
    """``(record field, column)`` for every column a row must have to map (the options' columns included);
    ids, sources, languages and optional text may be absent."""
    required = [(name, spec.column) for name in mapping.fields if name not in IDENTITY | OPTIONAL_TEXT
                and name not in LAYOUT_FIELDS.get(mapping.layout, ())
                and (spec := mapping.column(name)) is not None and spec.column is not None]
    if mapping.layout == "alpaca":
        required += [("instruction", (mapping.column("instruction") or Column(column="instruction")).column or ""),
                     ("output", (mapping.column("output") or Column(column="output")).column or "")]
    if mapping.layout == "turns":
        required.append(("messages", (mapping.column("messages") or Column(column="messages")).column or ""))
    if mapping.choices is not None:
        columns = mapping.choices.columns or [mapping.choices.column]
        required += [("choices", c) for c in columns if c]
    return required


def _missing_columns(raw: RawRow, mapping: Mapping) -> None:
    """A row lacking several of the mapping's required columns is named for all of them at once (a file with
    the wrong layout), not for the first alone."""
    missing = [(name, column) for name, column in required_columns(mapping) if column not in raw.data]
    if len(missing) > 1:
        raise FieldProblem(missing[0][0], f"missing columns {', '.join(repr(c) for _, c in missing)} "
                                          f"(columns: {', '.join(map(str, raw.data))})")


def _mapped(raw: RawRow, mapping: Mapping, path: Path) -> dict[str, Any]:
    _missing_columns(raw, mapping)
    values: dict[str, Any] = {"source": mapping.source or path.stem}
    if mapping.lang:
        values["lang"] = mapping.lang
    for name in mapping.fields:
        if (name == "answer" and mapping.kind == "mcqa") or name in LAYOUT_FIELDS.get(mapping.layout, ()):
            continue
        spec = mapping.column(name)
        if name in IDENTITY | OPTIONAL_TEXT and spec.column is not None and raw.data.get(spec.column) in (None, ""):
            continue  # absent or empty: the mapping's default, a generated id, or no value
        value = _value(raw, spec, name)
        if name in OPTIONAL_TEXT and (value is None or str(value).strip() == ""):
            continue
        values[name] = _structured(value, name) if name in ("tokens", "tags", "messages") else value
    if mapping.kind == "mcqa":
        values["choices"], keys = _choices(raw, mapping)
        answer = _value(raw, mapping.column("answer") or Column(column="answer"), "answer")
        try:
            if mapping.multi_answer:
                indices = answer_indices(_structured(answer, "answer"), mapping.answer_format, values["choices"], keys)
                values["answer"] = indices[0]
                if len(indices) > 1:
                    values["answers"] = indices
            else:
                values["answer"] = answer_index(answer, mapping.answer_format, values["choices"], keys)
        except ValueError as exc:
            raise FieldProblem("answer", str(exc)) from None
    if mapping.kind == "ner":
        for name in ("tokens", "tags"):
            if isinstance(values.get(name), str):
                values[name] = values[name].split()
    if mapping.kind == "chat" and mapping.layout != "fields":
        values["messages"] = _alpaca(raw, mapping) if mapping.layout == "alpaca" else _turns(raw, mapping)
    if mapping.keep:
        values["meta"] = {name: _value(raw, Column(column=name), name) for name in mapping.keep}
    if values.get("id") in (None, ""):
        values["id"] = _row_id(raw, path)
    values["id"] = str(values["id"])
    return values


def _choices(raw: RawRow, mapping: Mapping) -> tuple[list[str], list[str] | None]:
    """The option texts, and the option keys when they come as a dict (a letter answer names a key)."""
    spec = mapping.choices
    keys = None
    if spec.values is not None:
        options = list(spec.values)
    elif spec.columns is not None:
        options = [_value(raw, Column(column=c), "choices") for c in spec.columns]
    else:
        stored = _structured(_value(raw, Column(column=spec.column), "choices"), "choices")
        if spec.layout == "dict":
            if not isinstance(stored, dict):
                raise FieldProblem("choices", f"expected a dict of options, got {type(stored).__name__}")
            keys = list(stored)
            options = list(stored.values())
        else:
            if not isinstance(stored, list):
                raise FieldProblem("choices", f"expected a list of options, got {type(stored).__name__}")
            options = [o.get(spec.item) if spec.item and isinstance(o, dict) else o for o in stored]
    options = ["" if o is None else str(o).strip() for o in options]
    while options and options[-1] == "" and len(options) > 2:  # fewer options than columns: not a defect
        options.pop()
        if keys:
            keys.pop()
    if "" in options:
        raise FieldProblem("choices", f"option {options.index('') + 1} is empty")
    return options, keys


def _text(raw: RawRow, mapping: Mapping, name: str) -> str:
    spec = mapping.column(name) or Column(column=name)
    if spec.column is not None and spec.column not in raw.data and name in ("input", "system", "history"):
        return ""  # optional alpaca columns
    value = _value(raw, spec, name)
    return "" if value is None else str(value)


def _alpaca(raw: RawRow, mapping: Mapping) -> list[dict[str, str]]:
    messages = []
    system = _text(raw, mapping, "system").strip()
    if system:
        messages.append({"role": "system", "content": system})
    history = _structured(raw.data.get((mapping.column("history") or Column(column="history")).column) or [], "history")
    if not isinstance(history, list) or not all(isinstance(h, list) and len(h) == 2 for h in history):
        raise FieldProblem("history", "expected a list of [user, assistant] pairs")
    for user, assistant in history:
        messages += [{"role": "user", "content": str(user)}, {"role": "assistant", "content": str(assistant)}]
    instruction, extra = _text(raw, mapping, "instruction").strip(), _text(raw, mapping, "input").strip()
    if not instruction and not extra:
        raise FieldProblem("instruction", "is empty")
    output = _text(raw, mapping, "output").strip()
    if not output:
        raise FieldProblem("output", "is empty")
    messages.append({"role": "user", "content": f"{instruction}\n\n{extra}".strip()})
    messages.append({"role": "assistant", "content": output})
    return messages


def _turns(raw: RawRow, mapping: Mapping) -> list[dict[str, str]]:
    spec = mapping.column("messages") or Column(column="messages")
    turns = _structured(_value(raw, spec, "messages"), "messages")
    if not isinstance(turns, list):
        raise FieldProblem("messages", f"expected a list of turns, got {type(turns).__name__}")
    messages = []
    system_spec = mapping.column("system")
    system = str(raw.data.get(system_spec.column) or "").strip() if system_spec else ""
    if system:
        messages.append({"role": "system", "content": system})
    roles = mapping.turns.roles
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or mapping.turns.role_key not in turn or mapping.turns.content_key not in turn:
            raise FieldProblem(f"messages.{i}", f"expected an object with {mapping.turns.role_key!r} and "
                                                f"{mapping.turns.content_key!r}")
        role = turn[mapping.turns.role_key]
        if role not in roles:
            raise FieldProblem(f"messages.{i}", f"unknown role {role!r} (known: {', '.join(roles)})")
        content = turn[mapping.turns.content_key]
        if not isinstance(content, str) or not content.strip():
            raise FieldProblem(f"messages.{i}", "empty or non-text content")
        messages.append({"role": roles[role], "content": content})
    return messages
