"""The translate-pipeline baseline for multiple choice: source language → pivot language (English) → a
pivot-language model.

Gaokerena compared its Persian model with exactly this (Persian → English → an English medical model →
Persian) and found the pipeline far weaker; a team choosing between adapting a model and wrapping one needs
that row in its own table. The translator is any generate backend (an LLM on a server or on this machine),
so translations are cached and a re-run sends nothing twice.

For multiple choice the chosen option is an index, so only the question and its options are translated and
no answer goes back; for free-form questions the answer is translated back into the question's language. A
translation that cannot be read (wrong keys, wrong number of options) leaves the text in its source
language, never dropped; for multiple choice such questions are counted in the results.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from medadapt.evaluate.translator import Translator
from medadapt.llm.errors import MalformedResponse
from medadapt.records.kinds import MCQARecord


@dataclass
class TranslatedQuestions:
    records: list[MCQARecord]
    translated: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)  # id, reason, raw answer

    def summary(self) -> dict[str, Any]:
        return {"translated": self.translated, "untranslated_kept_in_source": len(self.failures),
                "first_failures": self.failures[:5]}


async def _question_in_pivot(translator: Translator, record: MCQARecord) -> tuple[MCQARecord, str | None, str | None]:
    """(the record in the pivot language or unchanged, why it failed, the raw answer)."""
    fields = {"question": record.question, "choices": record.choices}
    try:
        value = await translator.fields(fields, record.lang, translator.config.pivot_lang)
    except MalformedResponse as exc:
        return record, exc.reason, exc.raw
    translated = MCQARecord(**{**record.model_dump(), "question": value["question"], "choices": value["choices"],
                               "translated_from": record.lang, "source_question": record.question})
    return translated, None, None


async def questions_in_pivot(translator: Translator, records: list[MCQARecord]) -> TranslatedQuestions:
    todo = [r for r in records if r.lang != translator.config.pivot_lang]
    answers = await asyncio.gather(*(_question_in_pivot(translator, r) for r in todo))
    by_id = {r.id: r for r in records}
    result = TranslatedQuestions([])
    for original, (record, reason, raw) in zip(todo, answers):
        by_id[original.id] = record
        if reason is None:
            result.translated += 1
        else:
            result.failures.append({"id": original.id, "reason": reason, "raw": raw})
    result.records = [by_id[r.id] for r in records]
    return result


def benchmark_in_pivot(translator: Translator, records: list[MCQARecord], fewshot: dict[str, list[MCQARecord]]
                       ) -> tuple[TranslatedQuestions, dict[str, list[MCQARecord]]]:
    """A benchmark's questions and its few-shot examples per subject, in the pivot language."""
    examples = {subject: translator.run(questions_in_pivot(translator, shots)).records for subject, shots in fewshot.items()}
    return translator.run(questions_in_pivot(translator, records)), examples
