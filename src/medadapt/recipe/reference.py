"""The recipe reference (``docs/recipe.md``, ``medadapt recipe schema``), generated from the pydantic schema.

Walking :class:`~medadapt.recipe.schema.Recipe`'s ``model_fields`` (into nested sections, lists of models and
unions of models) means the reference cannot drift from what the loader accepts; a test fails if the committed
``docs/recipe.md`` differs from this output, and another if any key has no description.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from medadapt.recipe.schema import Recipe


@dataclass(frozen=True)
class KeyDoc:
    """One documented key: its dotted path (``[]`` marks a list item), type, default and meaning."""

    path: str
    type: str
    default: str
    description: str | None


def _type_name(annotation: Any) -> str:
    """A short, readable type: ``list[str]``, ``int | null``, ``'qa' | 'chat'``, a model's name."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(dict.fromkeys(_type_name(arg) for arg in args))  # a union of sections: one `mapping`
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(_type_name(arg) for arg in args)}]" if args else name
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    """The default as a recipe would write it; ``required`` when there is none."""
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(section present)"
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    return str(value) if not isinstance(value, (list, dict, tuple)) or value else ("[]" if not isinstance(value, dict) else "{}")


def variant_tag(model: type[BaseModel]) -> str | None:
    """``step=normalize`` for a model told apart in a union by a one-value Literal key (its discriminator)."""
    for name, field in model.model_fields.items():
        if typing.get_origin(field.annotation) is typing.Literal and len(typing.get_args(field.annotation)) == 1:
            return f"{name}={typing.get_args(field.annotation)[0]}"
    return None


def models_in(annotation: Any) -> Iterator[tuple[str, type[BaseModel]]]:
    """Models a field holds, each with the suffix its keys get: ``""`` for a section, ``[]`` for a list item,
    ``{}`` for a mapping's value; an item of a discriminated union gets ``[step=normalize]``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield "", annotation
    elif origin is typing.Annotated:
        yield from models_in(args[0])
    elif origin in (typing.Union, types.UnionType):
        models = [model for arg in args for _, model in models_in(arg)]
        variants = [variant_tag(model) for model in models]
        tagged = len(models) > 1 and all(variants)
        for model, variant in zip(models, variants):
            yield (f"<{variant}>" if tagged else ""), model
    elif origin in (list, tuple, set, frozenset):
        for arg in args:
            for suffix, model in models_in(arg):
                item = f"[{suffix[1:-1]}]" if suffix.startswith("<") else "[]" + suffix
                yield item, model
    elif origin is dict and args:
        yield from (("{}" + suffix, model) for suffix, model in models_in(args[-1]))


def schema_keys(model: type[BaseModel] = Recipe, prefix: str = "") -> list[KeyDoc]:
    """Every key of ``model``, depth first, each model's keys once per place it can appear."""
    keys: list[KeyDoc] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.append(KeyDoc(path, _type_name(field.annotation), _default(field), field.description))
        seen: set[type[BaseModel]] = set()
        for suffix, inner in models_in(field.annotation):
            if inner not in seen:
                seen.add(inner)
                keys.extend(schema_keys(inner, f"{path}{suffix}."))
    return keys


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_markdown() -> str:
    """``docs/recipe.md``: one table row per key, grouped by top-level section."""
    lines = [
        "# Recipe reference",
        "",
        "Generated from the recipe schema by `medadapt recipe schema --out docs/recipe.md`; do not edit by hand.",
        "A key `a.b[].c` is key `c` of each item of the list `a.b`; `a.b{}.c` is key `c` of each value of the",
        "mapping `a.b`; `a.b[step=x].c` is key `c` of the items whose `step` is `x`. Unknown keys are errors. Every",
        "section is optional: a stage runs only when its section is present. `medadapt recipe validate RECIPE` checks",
        "a recipe against this schema.",
        "",
    ]
    keys = schema_keys()
    top_level = [key for key in keys if "." not in key.path]
    lines += ["## Top level", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{k.path}` | {_cell(k.type)} | {_cell(k.default)} | {_cell(k.description or '')} |" for k in top_level]
    for section in top_level:
        nested = [key for key in keys if key.path.startswith(section.path) and key.path != section.path
                  and key.path[len(section.path)] in ".[{"]
        if not nested:
            continue
        lines += ["", f"## {section.path}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        lines += [f"| `{k.path}` | {_cell(k.type)} | {_cell(k.default)} | {_cell(k.description or '')} |" for k in nested]
    return "\n".join(lines) + "\n"
