"""Multiple-choice prompts, read from ``prompts.yaml`` (data: one entry per language or benchmark layout),
optionally extended or replaced entry by entry from a recipe's own file of the same shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from medadapt.records.kinds import MCQARecord
from medadapt.errors import DataError

LETTERS = "ABCDEFGHIJ"
TARGET_DELIMITER = " "
PROMPTS_FILE = Path(__file__).with_name("prompts.yaml")
REQUIRED = ("description", "question", "option", "answer_cue", "instruction")
OPTIONAL = ("multi_description", "multi_instruction")


def _read(path: Path) -> dict[str, dict[str, str]]:
    """Entries of a prompts file, each checked for the keys a prompt needs (and no others)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read multiple-choice prompts: {exc}".splitlines()[0], file=str(path)) from None
    if not isinstance(raw, dict):
        raise DataError("expected a mapping of prompt name → template keys", file=str(path))
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
            raise DataError("expected text values", file=str(path), field=str(name))
        missing = [k for k in REQUIRED if k not in entry]
        unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
        if missing or unknown:
            raise DataError(f"missing {', '.join(missing)}" if missing else f"unknown keys {', '.join(unknown)}",
                            file=str(path), field=str(name))
    return raw


@lru_cache(maxsize=1)
def prompt_templates() -> dict[str, dict[str, str]]:
    return _read(PROMPTS_FILE)


def available_languages(file: Path | None = None) -> set[str]:
    """Prompt names (languages, and layouts such as ``headqa``) shipped or added by a benchmark's
    ``prompt_file``: what ``recipe validate`` checks each benchmark's language against."""
    return set(prompt_templates()) | (set(_read(file)) if file is not None and file.is_file() else set())


@dataclass(frozen=True)
class PromptSet:
    """Which template each question is asked with: ``name`` for every question (a benchmark layout such as
    ``headqa``), else the question's own language; ``templates`` are the shipped ones with a recipe's file
    laid over them."""

    templates: dict[str, dict[str, str]] = field(default_factory=prompt_templates)
    name: str | None = None

    @classmethod
    def load(cls, name: str | None = None, file: Path | None = None) -> PromptSet:
        templates = {**prompt_templates(), **(_read(file) if file is not None else {})}
        if name is not None and name not in templates:
            raise DataError(f"no multiple-choice prompt named {name!r} (have {', '.join(templates)})", field="prompt")
        return cls(templates, name)

    def template(self, record: MCQARecord) -> dict[str, str]:
        key = self.name or record.lang
        if key not in self.templates:
            raise DataError(f"no multiple-choice prompt for language {key!r} (have {', '.join(self.templates)}); "
                            f"add one with the benchmark's prompt_file (evaluate.benchmarks[].prompt_file)", field="lang")
        return self.templates[key]

    def description(self, record: MCQARecord) -> str:
        t = self.template(record)
        text = t.get("multi_description", t["description"]) if record.answers else t["description"]
        return text.format(subject=record.subject.replace("_", " "))

    def instruction(self, record: MCQARecord) -> str:
        t = self.template(record)
        return t.get("multi_instruction", t["instruction"]) if record.answers else t["instruction"]


def mcqa_prompt(record: MCQARecord, style: str = "letters", prompts: PromptSet | None = None) -> tuple[str, list[str]]:
    """The context and the continuations to score, as lm-evaluation-harness builds them.

    ``letters`` (MMLU): the options are listed and the continuations are `` A``, `` B``…
    ``cloze`` (MMLU-cloze, what small models are usually reported on): the options are not shown and each
    continuation is the option's own text.
    """
    prompts = prompts or PromptSet()
    if len(record.choices) > len(LETTERS):
        raise DataError(f"{len(record.choices)} choices; at most {len(LETTERS)} supported", field="choices")
    t = prompts.template(record)
    lines = [t["question"].format(question=record.question.strip())]
    if style == "letters":
        lines += [t["option"].format(letter=LETTERS[i], choice=c.strip()) for i, c in enumerate(record.choices)]
    lines.append(t["answer_cue"])
    context = prompts.description(record) + "\n".join(lines)
    if style == "cloze":
        return context, [TARGET_DELIMITER + c.strip() for c in record.choices]
    return context, [TARGET_DELIMITER + LETTERS[i] for i in range(len(record.choices))]
