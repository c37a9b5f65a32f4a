"""Strict readers of the generate tasks' answers (those other stages read too are in medadapt.llm.parsing).
Each returns the parsed value or raises MalformedResponse with a reason and the raw text, which the stage
quarantines; nothing here guesses at what a broken answer meant."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from medadapt.llm.errors import MalformedResponse
from medadapt.llm.parsing import json_object

SENTENCE_END = re.compile(r"[.!?؟۔。](?=\s|$)")
LETTERS = "ABCDEFGH"


def number_in(value: dict[str, Any], key: str, low: float, high: float, text: str) -> float:
    got = value.get(key)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise MalformedResponse(f"{key}: expected a number, got {got!r}", text)
    if not low <= got <= high:
        raise MalformedResponse(f"{key}: {got} is outside {low:g}–{high:g}", text)
    return float(got)


def self_score(text: str) -> tuple[float, str]:
    """(score 0–100, feedback) from a scoring answer."""
    value = json_object(text)
    feedback = value.get("feedback", "")
    return number_in(value, "score", 0, 100, text), feedback if isinstance(feedback, str) else json.dumps(feedback)


def judge_scores(text: str, criteria: tuple[str, ...]) -> dict[str, float]:
    value = json_object(text)
    return {name: number_in(value, name, 0, 1, text) for name in criteria}


def free_text(text: str, finish_reason: str) -> str:
    """A prose answer. One cut off by the token limit keeps its complete sentences, or is malformed."""
    answer = text.strip()
    if finish_reason == "length":
        ends = list(SENTENCE_END.finditer(answer))
        if not ends:
            raise MalformedResponse("cut off by the token limit before a complete sentence", text)
        answer = answer[: ends[-1].end()]
    if not answer:
        raise MalformedResponse("empty answer", text)
    return answer


@dataclass
class GeneratedQuestions:
    mcq_question: str
    options: list[str]
    mcq_answer: int
    mcq_rationale: str
    saq_question: str
    saq_answer: str
    saq_rationale: str


def _fields(block: str, names: tuple[str, ...], text: str, part: str) -> dict[str, str]:
    found = dict(re.findall(r"^###(\w+):?[ \t]*(.*?)(?=^###|\Z)", block.strip(), re.MULTILINE | re.DOTALL))
    missing = [n for n in names if not found.get(n, "").strip()]
    if missing:
        raise MalformedResponse(f"{part}: missing ###{', ###'.join(missing)}", text)
    return {n: found[n].strip() for n in names}


def generated_questions(text: str) -> GeneratedQuestions:
    """The ###MCQ / ###SAQ format of the qa_generate prompt (four lettered options, one answer letter)."""
    parts = re.split(r"^###(MCQ|SAQ)[ \t]*$", text.strip(), flags=re.MULTILINE)
    blocks = dict(zip(parts[1::2], parts[2::2]))
    if set(blocks) != {"MCQ", "SAQ"}:
        raise MalformedResponse("expected one ###MCQ and one ###SAQ block", text)
    mcq = _fields(blocks["MCQ"], ("Question", "Options", "Answer", "Rationale"), text, "MCQ")
    saq = _fields(blocks["SAQ"], ("Question", "Answer", "Rationale"), text, "SAQ")
    options = re.findall(r"^\s*([A-H])[.)]\s*(.+?)\s*$", mcq["Options"], re.MULTILINE)
    letters = [letter for letter, _ in options]
    if len(options) < 2 or letters != list(LETTERS[: len(options)]):
        raise MalformedResponse("MCQ: options must be lines 'A. …', 'B. …' in order", text)
    answer = mcq["Answer"].strip().rstrip(".)").strip()
    if answer not in letters:
        raise MalformedResponse(f"MCQ: answer {mcq['Answer']!r} is not one of {''.join(letters)}", text)
    return GeneratedQuestions(mcq["Question"], [o for _, o in options], letters.index(answer), mcq["Rationale"],
                              saq["Question"], saq["Answer"], saq["Rationale"])


def conversation_turns(text: str, min_turns: int) -> list[tuple[str, str]]:
    """(speaker, text) turns of a ###Patient/###Doctor dialogue that alternates, starts with the patient and
    ends with the doctor; any other line (outside a turn's text) makes the answer malformed."""
    turns = re.findall(r"^###(Patient|Doctor):[ \t]*(.*?)\s*(?=^###|\Z)", text.strip(), re.MULTILINE | re.DOTALL)
    stray = re.sub(r"^###(Patient|Doctor):.*?(?=^###|\Z)", "", text.strip(), flags=re.MULTILINE | re.DOTALL).strip()
    if stray:
        raise MalformedResponse(f"text outside ###Patient/###Doctor turns: {stray[:60]!r}", text)
    speakers = [speaker for speaker, _ in turns]
    expected = ["Patient", "Doctor"] * len(turns)
    if len(turns) < min_turns or speakers != expected[: len(turns)] or speakers[-1] != "Doctor":
        raise MalformedResponse(f"expected at least {min_turns} turns alternating Patient/Doctor, ending with the "
                                f"Doctor; got {' '.join(speakers) or 'none'}", text)
    if any(not body.strip() for _, body in turns):
        raise MalformedResponse("an empty turn", text)
    return [(speaker, body.strip()) for speaker, body in turns]
