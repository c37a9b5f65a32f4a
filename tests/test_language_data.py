"""Every one of the seed papers' eight languages has its data: a medical keyword list (curate), a prompt file
with every LLM task (llm/task_prompts) and the data instruction prompts (format). A translated prompt keeps
the English file's contract: the same Jinja variables, ### markers and JSON keys."""

from __future__ import annotations

import re
import string

import jinja2
import jinja2.meta
import pytest

from medadapt.curate.filters import load_keywords
from medadapt.format.formatting import instruction_prompts
from medadapt.llm.prompts import TASK_PROMPTS, load_prompts

LANGUAGES = ("en", "fa", "ar", "zh", "ja", "ko", "fr", "es")
_JINJA = jinja2.Environment()
_MARKERS = re.compile(r"###[A-Za-z]+:?")
_JSON_KEYS = re.compile(r'"([a-z_]+)":')


def _contract(text: str) -> tuple[set[str], list[str], set[str]]:
    variables = jinja2.meta.find_undeclared_variables(_JINJA.parse(text))
    return variables, _MARKERS.findall(text), set(_JSON_KEYS.findall(text))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_keyword_list(lang):
    terms = load_keywords(lang)
    assert len(terms) >= 250
    assert all(t == t.strip() and t for t in terms)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_task_prompts_cover_every_task_with_the_english_contract(lang):
    english, prompts = load_prompts("en"), load_prompts(lang)
    assert set(prompts.prompts) == set(TASK_PROMPTS)
    for task in TASK_PROMPTS:
        assert prompts[task].system, f"{lang}.yaml: {task} has no system text"
        assert _contract(prompts[task].user) == _contract(english[task].user), f"{lang}.yaml: {task}"
    assert set(prompts.languages) == set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_format_instruction_prompts(lang):
    prompts, english = instruction_prompts(), instruction_prompts()["en"]
    assert set(prompts[lang]) == set(english)
    for key, text in prompts[lang].items():
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(english[key]) if f}, f"{lang}: {key}"

