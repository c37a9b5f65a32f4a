"""Multiple-choice prompts, read from ``prompts.yaml`` (data, one entry per language)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from medadapt.data.records import MCQARecord
from medadapt.errors import DataError

LETTERS = "ABCDEFGHIJ"
TARGET_DELIMITER = " "


@lru_cache(maxsize=1)
def prompt_templates() -> dict[str, dict[str, str]]:
    return yaml.safe_load(Path(__file__).with_name("prompts.yaml").read_text(encoding="utf-8"))


def mcqa_prompt(record: MCQARecord, style: str = "letters") -> tuple[str, list[str]]:
    """The context and the continuations to score, as lm-evaluation-harness builds them.

    ``letters`` (MMLU): the options are listed and the continuations are `` A``, `` B``…
    ``cloze`` (MMLU-cloze, what small models are usually reported on): the options are not shown and each
    continuation is the option's own text.
    """
    templates = prompt_templates()
    if record.lang not in templates:
        raise DataError(f"no multiple-choice prompt for language {record.lang!r} (have {', '.join(templates)})",
                        field="lang")
    if len(record.choices) > len(LETTERS):
        raise DataError(f"{len(record.choices)} choices; at most {len(LETTERS)} supported", field="choices")
    t = templates[record.lang]
    lines = [t["question"].format(question=record.question.strip())]
    if style == "letters":
        lines += [t["option"].format(letter=LETTERS[i], choice=c.strip()) for i, c in enumerate(record.choices)]
    lines.append(t["answer_cue"])
    context = t["description"].format(subject=record.subject.replace("_", " ")) + "\n".join(lines)
    if style == "cloze":
        return context, [TARGET_DELIMITER + c.strip() for c in record.choices]
    return context, [TARGET_DELIMITER + LETTERS[i] for i in range(len(record.choices))]
