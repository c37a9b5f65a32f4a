"""The translate pipelines' translator, shared by both kinds: generate's ``translate`` prompt through any
generate backend, cached, so a re-run sends nothing twice. Multiple choice translates questions and options
(mcqa/pipeline.py); free-form translates the question and the answer back (freeform/answers.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from medadapt.evaluate.config import PipelineConfig
from medadapt.llm.prompts import PromptSet, load_prompts
from medadapt.llm.backend import ChatRequest
from medadapt.llm.cache import RequestCache
from medadapt.llm.client import Client
from medadapt.llm.parsing import translated_fields


class Translator:
    """The pipeline's translator: generate's ``translate`` prompt through a cached client, on its own event loop
    (the backend's connections live in it), so both the batch (MCQA) and the one-by-one (free-form) callers can
    use it. Close it when done."""

    def __init__(self, config: PipelineConfig, cache_path: Path, default_model: str, recipe_dir: Path,
                 prompts_dir: Path | None = None, trust_remote_code: bool = False):
        from medadapt.llm.factory import make_backend

        self.config = config
        self.prompts: PromptSet = load_prompts(config.prompt_lang, prompts_dir)
        self._cache = RequestCache(cache_path)
        self._backend = make_backend(config.translator, config.translator.model or default_model, None, recipe_dir,
                                     trust_remote_code)
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
