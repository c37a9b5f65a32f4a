"""The read-recording recipe view: what a stage touches is exactly what its fingerprint holds."""

from __future__ import annotations

import pytest

from medadapt.recipe import Recipe
from medadapt.recipe.schema import ChatSection
from medadapt.runs.reads import RecipeReads, changed_paths, tracked, untracked


def recipe(**changes) -> Recipe:
    base = {"name": "t", "languages": ["en", "fa"], "model": "m", "report": {"title": "x"}}
    return Recipe.model_validate(base | changes)


def test_leaves_are_recorded_whole_and_sections_as_present():
    reads = RecipeReads()
    view = tracked(recipe(), reads)
    assert view.languages == ["en", "fa"] and view.chat.system_prompt is None
    assert set(reads.paths) == {"languages", "chat", "chat.system_prompt"}
    assert reads.paths["chat"] == "present:ChatSection"


def test_isinstance_and_truthiness_see_the_model():
    view = tracked(recipe(), RecipeReads())
    assert isinstance(view, Recipe) and isinstance(view.chat, ChatSection)
    assert view.train is None and view.report
    assert untracked(view.chat) == ChatSection()


def test_a_method_records_its_whole_model():
    reads = RecipeReads()
    tracked(recipe(), reads).chat.model_dump()
    assert not reads.paths["chat"].startswith("present:")
    assert changed_paths(recipe(chat={"temperature": 0.1}), reads.paths) == ["chat"]


def test_changed_paths_names_only_what_was_read():
    reads = RecipeReads()
    view = tracked(recipe(), reads)
    _ = view.chat.repetition_penalty, view.report.title, view.seed
    assert changed_paths(recipe(chat={"temperature": 0.1}), reads.paths) == []  # temperature was not read
    assert changed_paths(recipe(chat={"repetition_penalty": 1.3}), reads.paths) == ["chat.repetition_penalty"]
    assert changed_paths(recipe(seed=4), reads.paths) == ["seed"]
    # a section that disappears is named alone, not the fields read inside it
    assert changed_paths(recipe(report=None), reads.paths) == ["report"]


def test_a_presence_read_never_weakens_a_whole_read():
    reads = RecipeReads()
    view = tracked(recipe(), reads)
    view.report.model_dump()
    _ = view.report.title
    assert changed_paths(recipe(report={"title": "y"}), reads.paths)


def test_writes_are_refused():
    with pytest.raises(AttributeError):
        tracked(recipe(), RecipeReads()).seed = 1
