"""The translate-pipeline baseline: source language → pivot language (English) → a pivot-language model.

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
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt.data.records import MCQARecord
from medadapt.evaluate.freeform import LocalAnswerer, TimedAnswer
from medadapt.evaluate.config import PipelineConfig
from medadapt.generate.backend import ChatRequest
from medadapt.generate.cache import RequestCache
from medadapt.generate.client import Client
from medadapt.generate.errors import MalformedResponse
from medadapt.generate.parsing import translated_fields
from medadapt.generate.prompts import PromptSet, load_prompts


@dataclass
class TranslatedQuestions:
    records: list[MCQARecord]
    translated: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)  # id, reason, raw answer

    def summary(self) -> dict[str, Any]:
        return {"translated": self.translated, "untranslated_kept_in_source": len(self.failures),
                "first_failures": self.failures[:5]}


class Translator:
    """The pipeline's translator: generate's ``translate`` prompt through a cached client, on its own event loop
    (the backend's connections live in it), so both the batch (MCQA) and the one-by-one (free-form) callers can
    use it. Close it when done."""

    def __init__(self, config: PipelineConfig, cache_path: Path, default_model: str, recipe_dir: Path,
                 prompts_dir: Path | None = None):
        from medadapt.generate.stage import make_backend

        self.config = config
        self.prompts: PromptSet = load_prompts(config.prompt_lang, prompts_dir)
        self._cache = RequestCache(cache_path)
        self._backend = make_backend(config.translator, config.translator.model or default_model, None, recipe_dir)
        self._client = Client(self._backend, self._cache, config.translator.price)
        self._loop = asyncio.new_event_loop()

    async def fields(self, fields: dict[str, Any], source: str, target: str) -> dict[str, Any]:
        """``fields`` translated from ``source`` into ``target``; MalformedResponse when the answer is unreadable."""
        messages = self.prompts["translate"].messages(source_language=self.prompts.language_name(source),
                                                      target_language=self.prompts.language_name(target),
                                                      source_json=json.dumps(fields, ensure_ascii=False, indent=1))
        completion = await self._client.ask(ChatRequest(messages, max_tokens=self.config.max_new_tokens))
        return translated_fields(completion.text, fields)

    def run(self, work: Any) -> Any:
        return self._loop.run_until_complete(work)

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._backend.aclose())
            self._loop.close()
        finally:
            self._cache.close()


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


class PipelineAnswerer:
    """A free-form answerer: the question into the pivot language, the pivot model's answer, the answer back.
    Nothing is shown before the answer is back in the user's language, so TTFT is the wall time."""

    def __init__(self, label: str, inner: LocalAnswerer, translator: Translator):
        self.label = label
        self.inner = inner
        self.translator = translator
        self.identity = {**inner.identity, "pipeline": translator.config.model_dump(mode="json")}

    def _translate(self, key: str, text: str, source: str, target: str) -> str:
        try:
            return self.translator.run(self.translator.fields({key: text}, source, target))[key]
        except MalformedResponse:  # an unreadable translation: the text goes on in its own language
            return text

    def answer(self, question: str, lang: str) -> TimedAnswer:
        pivot = self.translator.config.pivot_lang
        start = time.perf_counter()
        asked = self._translate("question", question, lang, pivot) if lang != pivot else question
        inner = self.inner.answer(asked, pivot)
        text = self._translate("answer", inner.text, pivot, lang) if lang != pivot and inner.text else inner.text
        wall = time.perf_counter() - start
        return TimedAnswer(text, wall, inner.tokens, wall, streamed=False)

    def close(self) -> None:
        self.translator.close()
