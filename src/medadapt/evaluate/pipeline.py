"""The translate-pipeline baseline: source language → pivot language (English) → a pivot-language model.

Gaokerena compared its Persian model with exactly this (Persian → English → an English medical model →
Persian) and found the pipeline far weaker; a team choosing between adapting a model and wrapping one needs
that row in its own table. The translator is any generate backend (an LLM on a server or on this machine),
so translations are cached and a re-run sends nothing twice.

For multiple choice the chosen option is an index, so only the question and its options are translated and
no answer goes back. A translation that cannot be read (wrong keys, wrong number of options) leaves the
question in its source language; such questions are counted in the results, never dropped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt.data.records import MCQARecord
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


class QuestionTranslator:
    """Translates multiple-choice questions into the pivot language through a cached generate client."""

    def __init__(self, client: Client, prompts: PromptSet, pivot_lang: str, max_new_tokens: int):
        self.client = client
        self.prompts = prompts
        self.pivot_lang = pivot_lang
        self.max_new_tokens = max_new_tokens

    async def _one(self, record: MCQARecord) -> tuple[MCQARecord, str | None, str | None]:
        """(the record in the pivot language or unchanged, why it failed, the raw answer)."""
        fields = {"question": record.question, "choices": record.choices}
        prompt = self.prompts["translate"]
        messages = prompt.messages(source_language=self.prompts.language_name(record.lang),
                                   target_language=self.prompts.language_name(self.pivot_lang),
                                   source_json=json.dumps(fields, ensure_ascii=False, indent=1))
        completion = await self.client.ask(ChatRequest(messages, max_tokens=self.max_new_tokens))
        try:
            value = translated_fields(completion.text, fields)
        except MalformedResponse as exc:
            return record, exc.reason, exc.raw
        translated = MCQARecord(**{**record.model_dump(), "question": value["question"], "choices": value["choices"],
                                   "translated_from": record.lang, "source_question": record.question})
        return translated, None, None

    async def translate(self, records: list[MCQARecord]) -> TranslatedQuestions:
        todo = [r for r in records if r.lang != self.pivot_lang]
        answers = await asyncio.gather(*(self._one(r) for r in todo))
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


def translate_questions(config: PipelineConfig, groups: dict[str, list[MCQARecord]], cache_path: Path,
                        default_model: str, recipe_dir: Path, prompts_dir: Path | None = None
                        ) -> dict[str, TranslatedQuestions]:
    """Translate each named group of questions (a benchmark's questions, its few-shot examples) once."""
    from medadapt.generate.stage import make_backend

    cache = RequestCache(cache_path)
    backend = make_backend(config.translator, config.translator.model or default_model, None, recipe_dir)
    translator = QuestionTranslator(Client(backend, cache, config.translator.price), load_prompts(config.prompt_lang, prompts_dir),
                                    config.pivot_lang, config.max_new_tokens)

    async def run() -> dict[str, TranslatedQuestions]:
        try:
            return {name: await translator.translate(records) for name, records in groups.items()}
        finally:
            await backend.aclose()

    try:
        return asyncio.run(run())
    finally:
        cache.close()
