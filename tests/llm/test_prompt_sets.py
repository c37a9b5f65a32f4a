"""Shipped prompt sets (llm/task_prompts/<set>/): each language of a set gives every task step, the steps it
defines keep the output contract the parsers read (### markers, JSON keys) and the set's English variables,
the rest come unchanged from the default file; a language the set lacks is a one-line error."""

from __future__ import annotations

import re

import jinja2
import jinja2.meta
import pytest

from medadapt.llm.errors import LLMError
from medadapt.llm.prompts import TASK_PROMPTS, _shipped_dir, available_languages, load_prompts

MMED_IFT = ("en", "zh", "ja", "ko", "fr", "es")
_JINJA = jinja2.Environment()


def _contract(text: str) -> tuple[set[str], list[str], set[str]]:
    variables = jinja2.meta.find_undeclared_variables(_JINJA.parse(text))
    return variables, re.findall(r"###[A-Za-z]+:?", text), set(re.findall(r'"([a-z_]+)":', text))


def test_mmed_ift_covers_the_papers_six_languages():
    assert available_languages(prompt_set="mmed-ift") == set(MMED_IFT)


@pytest.mark.parametrize("lang", MMED_IFT)
def test_every_step_resolves_and_the_set_keeps_the_contract(lang):
    paper, default = load_prompts(lang, prompt_set="mmed-ift"), load_prompts(lang)
    english = load_prompts("en", prompt_set="mmed-ift")
    assert set(paper.prompts) == set(TASK_PROMPTS) and paper.languages == default.languages
    own = set(_read_steps(lang))
    assert {"qa_generate", "judge"} <= own
    for step in TASK_PROMPTS:
        if step not in own:
            assert paper[step] == default[step], f"{lang}: {step} should come from the default file"
            continue
        assert paper[step].hash != default[step].hash, f"{lang}: {step} is the default one"
        variables, markers, keys = _contract(paper[step].user)
        assert (variables, markers, keys) == _contract(english[step].user), f"{lang}: {step}"
        assert (markers, keys) == _contract(load_prompts("en")[step].user)[1:], f"{lang}: {step} (parser contract)"


def _read_steps(lang: str) -> list[str]:
    import yaml

    raw = yaml.safe_load((_shipped_dir("mmed-ift") / f"{lang}.yaml").read_text(encoding="utf-8"))
    return [step for step in raw if step in TASK_PROMPTS]


def test_the_judge_shows_the_passage_only_when_there_is_one():
    judge = load_prompts("fr", prompt_set="mmed-ift")["judge"]
    with_passage = judge.messages(question="Q", answer="A", passage="Le texte source.", rationale="")[1][1]
    without = judge.messages(question="Q", answer="A", passage="", rationale="")[1][1]
    assert "Texte : Le texte source." in with_passage and "appuyée par le texte" in with_passage
    assert "Texte :" not in without and "appuyée par le texte" not in without


def test_a_language_outside_the_set_is_a_one_line_error(tmp_path):
    with pytest.raises(LLMError, match="prompt set 'mmed-ift' has no prompts for language 'fa'"):
        load_prompts("fa", prompt_set="mmed-ift")
    (tmp_path / "fa.yaml").write_text((_shipped_dir() / "fa.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_prompts("fa", tmp_path, "mmed-ift").file == tmp_path / "fa.yaml"  # a recipe file wins, whole
    assert "fa" in available_languages(tmp_path, "mmed-ift")
