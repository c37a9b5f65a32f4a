"""The shared answer readers on canned answers: good ones parse, broken ones raise MalformedResponse with a
reason and the raw text."""

from __future__ import annotations

import pytest

from medadapt.llm.errors import MalformedResponse
from medadapt.llm.parsing import json_object, translated_fields

SOURCE = {"question": "What is fever?", "choices": ["heat", "cold"]}


def test_json_object_is_the_whole_answer_a_fence_or_the_outermost_braces():
    assert json_object('{"a": 1}') == {"a": 1}
    assert json_object('Sure:\n```\n{"a": 2}\n```') == {"a": 2}
    assert json_object('The verdict is {"better": "1"} as asked.') == {"better": "1"}
    with pytest.raises(MalformedResponse, match="no JSON object"):
        json_object("[1, 2]")


def test_translation_json_in_a_fence_parses():
    text = 'Here you go:\n```json\n{"question": "تب چیست؟", "choices": ["گرما", "سرما"]}\n```'
    assert translated_fields(text, SOURCE) == {"question": "تب چیست؟", "choices": ["گرما", "سرما"]}


@pytest.mark.parametrize("text, reason", [
    ("not json at all", "no JSON object"),
    ('{"question": "x"}', "differ from the source"),
    ('{"question": "x", "choices": ["only one"]}', "list of 2"),
    ('{"question": " ", "choices": ["a", "b"]}', "non-empty text"),
])
def test_bad_translations_are_malformed(text, reason):
    with pytest.raises(MalformedResponse, match=reason) as info:
        translated_fields(text, SOURCE)
    assert info.value.raw == text
