"""Strict readers of model answers that more than one stage reads: a JSON object, and JSON fields translated
by a model (the generate stage's translate task and the evaluate stage's translator). Each returns the value
or raises MalformedResponse with a reason and the raw text; nothing here guesses at what a broken answer
meant."""

from __future__ import annotations

import json
import re
from typing import Any

from medadapt.llm.errors import MalformedResponse

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def json_object(text: str) -> dict[str, Any]:
    """The JSON object an answer holds: the whole answer, a fenced ```json block, or the outermost {…}."""
    candidates = [text.strip(), *FENCE.findall(text)]
    if "{" in text and "}" in text:
        candidates.append(text[text.index("{"): text.rindex("}") + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise MalformedResponse("no JSON object in the answer", text)


def translated_fields(text: str, source: dict[str, Any]) -> dict[str, Any]:
    """A translation must have exactly the source's keys, strings for strings and same-length string lists."""
    value = json_object(text)
    if set(value) != set(source):
        raise MalformedResponse(f"keys {sorted(value)} differ from the source's {sorted(source)}", text)
    for key, original in source.items():
        got = value[key]
        if isinstance(original, str) and not (isinstance(got, str) and got.strip()):
            raise MalformedResponse(f"{key}: expected non-empty text", text)
        if isinstance(original, list) and not (
            isinstance(got, list) and len(got) == len(original) and all(isinstance(x, str) and x.strip() for x in got)
        ):
            raise MalformedResponse(f"{key}: expected a list of {len(original)} non-empty texts", text)
    return value
