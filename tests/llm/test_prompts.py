"""Prompt sets per language: a recipe's prompts folder replaces a shipped file or adds a language; every
other language falls back to the shipped file."""

from __future__ import annotations

import pytest

from medadapt.llm.errors import LLMError
from medadapt.llm.prompts import load_prompts

OVERRIDE = """\
languages: {fr: français, en: anglais}
expand:
  system: Vous êtes un médecin de famille.
  user: "MA CONSIGNE : {{ question }} / {{ answer }}"
"""


def test_recipe_folder_replaces_a_shipped_file_and_others_fall_back(tmp_path):
    (tmp_path / "fr.yaml").write_text(OVERRIDE, encoding="utf-8")
    shipped, mine = load_prompts("fr"), load_prompts("fr", tmp_path)
    assert mine.file == tmp_path / "fr.yaml" and shipped.file.parent.name == "task_prompts"
    assert mine["expand"].messages(question="Q", answer="A") == (("system", "Vous êtes un médecin de famille."),
                                                                 ("user", "MA CONSIGNE : Q / A"))
    assert mine["expand"].hash != shipped["expand"].hash
    with pytest.raises(LLMError, match="no `judge` prompt"):  # the whole file is replaced, not merged
        mine["judge"]
    assert load_prompts("zh", tmp_path).file == load_prompts("zh").file


def test_recipe_folder_adds_a_language(tmp_path):
    (tmp_path / "ru.yaml").write_text(OVERRIDE, encoding="utf-8")
    assert load_prompts("ru", tmp_path)["expand"].system == "Vous êtes un médecin de famille."
    with pytest.raises(LLMError, match="no prompts for language 'ru'"):
        load_prompts("ru")
