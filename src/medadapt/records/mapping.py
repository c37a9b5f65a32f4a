"""Column mappings: how a dataset's columns become a canonical record. Mappings are data: shipped ones live
in ``records/mappings/*.yaml`` (``medadapt data convert --from NAME``), a user's own is any YAML file of the
same shape. A canonical kind (``qa``, ``mcqa``, ``chat``, ``text``, ``article``, ``ner``) needs no mapping.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from medadapt.records.answers import AnswerFormat
from medadapt.records.kinds import RECORD_KINDS
from medadapt.errors import DataError
from medadapt.strict import StrictModel

MAPPINGS_DIR = Path(__file__).with_name("mappings")


class Column(StrictModel):
    """A value taken from a column (optionally the first group of ``pattern`` in it) or a constant."""

    column: str | None = None
    pattern: str | None = Field(None, description="A regex; the record gets its first group. Pattern and value "
                                "are compared in the FIELD fold (medadapt.text.fold): Arabic ي/ك as Persian ی/ک, "
                                "ZWNJ as a space, spaces trimmed, a tatweel outside Arabic words as `_`.")
    value: str | None = None

    @field_validator("pattern")
    @classmethod
    def _one_group(cls, pattern: str | None) -> str | None:
        """Checked once here, not on every row: a regex that compiles and has the group the record gets."""
        if pattern is None:
            return None
        try:
            groups = re.compile(pattern).groups
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if groups < 1:
            raise ValueError("needs a group, (...), around the part the record gets")
        return pattern

    @model_validator(mode="after")
    def _one_origin(self) -> Column:
        if (self.column is None) == (self.value is None):
            raise ValueError("give either `column` or `value`")
        return self


class Choices(StrictModel):
    """Options in several columns (``columns``), in one column holding a list or a dict (``column``), or the
    same for every row (``values``: PubMedQA's yes / no / maybe)."""

    columns: list[str] | None = None
    column: str | None = None
    values: list[str] | None = None
    layout: Literal["list", "dict"] = "list"
    item: str | None = Field(None, description="For a list of objects: the key holding each option's text.")

    @model_validator(mode="after")
    def _one_origin(self) -> Choices:
        if sum(x is not None for x in (self.columns, self.column, self.values)) != 1:
            raise ValueError("give one of `columns` (one per option), `column` (a list or dict) or `values`")
        return self


class Turns(StrictModel):
    """Conversations stored as a list of turns (ShareGPT, OpenAI messages)."""

    role_key: str = "role"
    content_key: str = "content"
    roles: dict[str, Literal["system", "user", "assistant"]] = Field(
        default_factory=lambda: {"system": "system", "user": "user", "assistant": "assistant"})


class Mapping(StrictModel):
    description: str = ""
    kind: Literal["qa", "article", "text", "chat", "mcqa", "ner"]
    layout: Literal["fields", "alpaca", "turns"] = Field(
        "fields", description="chat only: alpaca (instruction/input/output/history) or turns (a list of messages)")
    lang: str | None = Field(None, description="Language of every row, unless a `lang` column is mapped.")
    source: str | None = Field(None, description="Source name of every row, unless a `source` column is mapped.")
    fields: dict[str, str | Column] = Field(default_factory=dict, description="record field → column")
    choices: Choices | None = None
    answer_format: AnswerFormat = "one_based"
    multi_answer: bool = Field(False, description="mcqa: the answer may name several options (CMB's \"ABD\", "
                               "FrenchMedMCQA's list of keys); such rows get `answers`, the others `answer` alone.")
    turns: Turns = Field(default_factory=Turns)
    sheets: list[str] | None = Field(None, description="XLSX: the sheets to read (default: every sheet).")
    keep: list[str] = Field(default_factory=list, description="Other columns to keep under the record's `meta`.")

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        if self.kind == "mcqa" and self.choices is None:
            raise ValueError("an mcqa mapping needs `choices`")
        if self.layout != "fields" and self.kind != "chat":
            raise ValueError(f"layout {self.layout} is for chat mappings")
        return self

    def column(self, name: str) -> Column | None:
        spec = self.fields.get(name)
        return Column(column=spec) if isinstance(spec, str) else spec


def shipped_mappings() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def is_kind(name: str) -> bool:
    return name in RECORD_KINDS


def load_mapping(name_or_path: str | Path, base_dir: Path | None = None) -> Mapping:
    """A shipped mapping by name, or a user's YAML file (relative to ``base_dir``)."""
    name = str(name_or_path)
    path = MAPPINGS_DIR / f"{name}.yaml" if name in shipped_mappings() else Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None and name not in shipped_mappings():
        path = base_dir / path
    if not path.is_file():
        raise DataError(f"unknown format or mapping (kinds: {', '.join(RECORD_KINDS)}; shipped mappings: "
                        f"{', '.join(shipped_mappings())}) and no such YAML file", field=name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Mapping.model_validate(raw)
    except yaml.YAMLError as exc:
        raise DataError(f"invalid YAML: {exc}".splitlines()[0], file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason}", file=str(path)) from None
    except RecursionError:  # PyYAML's parser recurses once per level of nesting
        raise DataError("invalid YAML: nested too deeply", file=str(path)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataError(err["msg"], file=str(path), field=".".join(map(str, err["loc"])) or None) from None


def reader_problem(name_or_path: str, base_dir: Path | None = None) -> str | None:
    """Why ``name_or_path`` is neither a record kind nor a loadable mapping, or None (for recipe checks)."""
    if is_kind(name_or_path):
        return None
    try:
        load_mapping(name_or_path, base_dir)
    except DataError as exc:
        return exc.one_line()
    return None
