"""Fingerprints derived from what a stage reads, never declared beside the code that reads.

A stage receives the recipe through :func:`tracked`, a view that records every field the stage touches: a
plain value (a number, a string, a list, a dict) is recorded whole; a section or other sub-model is recorded
only as *present* until the stage reads into it; calling a method of a model (``section.model_dump()``,
``train.input_references()``) records the whole model, because a method may read any of its fields. The
runner keeps these reads in the manifest and decides whether a stage is current by looking up the same
paths in the new recipe — the dynamic-dependency argument of build systems like redo and Shake: a
deterministic stage that finds the same values at every path it read would read the same paths again.

Over-recording only re-runs a stage needlessly; under-recording would reuse stale results, so the view errs
on the side of recording: any way a value leaves the view (a method, iteration, comparison) records it whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from medadapt.runs.hashing import hash_json

#: The description of a path that names a sub-model the stage only tested for presence.
_PRESENT = "present:"


def describe(value: Any, whole: bool) -> str:
    """What the manifest keeps for one read path: a presence marker for a model, else a content hash."""
    if isinstance(value, BaseModel) and not whole:
        return _PRESENT + type(value).__name__
    return hash_json(to_jsonable_python(value, fallback=repr))


class RecipeReads:
    """The recipe paths one stage read, each with :func:`describe` of its value (``""`` is the whole recipe)."""

    def __init__(self) -> None:
        self.paths: dict[str, str] = {}

    def record(self, path: str, value: Any, whole: bool) -> None:
        if not whole and path in self.paths:
            return  # a presence read adds nothing to an earlier read of the same path
        self.paths[path] = describe(value, whole)


def value_at(root: BaseModel, path: str) -> Any:
    """The value at a dotted path of a recipe, or None where a section on the way is absent."""
    value: Any = root
    for name in path.split(".") if path else []:
        if value is None:
            return None
        value = getattr(value, name, None)
    return value


def changed_paths(root: BaseModel, reads: dict[str, str]) -> list[str]:
    """The recorded paths whose value in ``root`` differs from what the stage read last time, in the words a
    user edits: a section that appeared or disappeared is named alone; a section read whole is named only
    when no field read inside it changed."""
    changed = [path for path, described in reads.items()
               if describe(value_at(root, path), not described.startswith(_PRESENT)) != described]

    def inside(path: str, section: str) -> bool:
        return path != section and (not section or path.startswith(section + "."))

    presence = [path for path in changed if reads[path].startswith(_PRESENT)]
    return [path for path in changed
            if not any(inside(path, section) for section in presence)
            and (path in presence or not any(inside(other, path) for other in changed))]


class TrackedModel:
    """A read-recording view of a pydantic model; ``isinstance`` sees the model's own class."""

    __slots__ = ("_model", "_path", "_reads")

    def __init__(self, model: BaseModel, path: str, reads: RecipeReads):
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_reads", reads)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105  (isinstance(view, CurateSection) stays true)
        return type(self._model)

    def _whole(self) -> BaseModel:
        self._reads.record(self._path, self._model, whole=True)
        return self._model

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._model, name)
        if callable(value) and not isinstance(value, BaseModel):
            self._whole()  # a method may read any field of its model
            return value
        path = f"{self._path}.{name}" if self._path else name
        if isinstance(value, BaseModel):
            self._reads.record(path, value, whole=False)
            return TrackedModel(value, path, self._reads)
        self._reads.record(path, value, whole=True)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a stage must not change the recipe (tried to set {name!r})")

    def __iter__(self) -> Iterator[Any]:
        return iter(self._whole())

    def __eq__(self, other: object) -> bool:
        return self._whole() == (other._whole() if isinstance(other, TrackedModel) else other)

    def __hash__(self) -> int:
        return id(self._model)

    def __repr__(self) -> str:
        return f"tracked({self._model!r})"


def tracked(recipe: BaseModel, reads: RecipeReads) -> Any:
    """The recipe as a stage sees it: every read lands in ``reads``."""
    return TrackedModel(recipe, "", reads)


def untracked(value: Any) -> Any:
    """The plain model behind a view, recording it as read whole (for code that needs the real object)."""
    return value._whole() if type(value) is TrackedModel else value
