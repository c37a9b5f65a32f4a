"""The one way to get a backend from its config, for the generate stage, the judge and the translator."""

from __future__ import annotations

import os
from pathlib import Path

from medadapt.llm.backend import Backend
from medadapt.llm.config import BackendConfig
from medadapt.llm.errors import LLMError


def make_backend(config: BackendConfig, model: str, chat_template: str | None, recipe_dir: Path,
                 trust_remote_code: bool = False) -> Backend:
    """The configured backend; the API key is read here from the environment and kept only in memory.
    ``chat_template`` (a shipped name or a YAML file relative to ``recipe_dir``) and ``trust_remote_code`` (the
    recipe's key) are for in-process models."""
    if config.in_process:
        from medadapt.models.templates import load_chat_template

        template = load_chat_template(chat_template, recipe_dir)
        if config.kind == "vllm":
            from medadapt.llm.vllm_backend import VLLMBackend

            return VLLMBackend(model, config.batch_size, template, trust_remote_code)
        if config.kind == "llamacpp":
            from medadapt.llm.llamacpp import LlamaCppBackend

            return LlamaCppBackend(model, config.batch_size, template)
        from medadapt.llm.local_backend import LocalBackend

        return LocalBackend(model, config.batch_size, template, trust_remote_code)
    from medadapt.llm.http_backend import OpenAIBackend

    api_key = None
    if config.api_key_env:
        api_key = os.environ.get(config.api_key_env)
        if not api_key:
            raise LLMError(f"environment variable {config.api_key_env} is not set (it holds the API key)",
                           field="generate.backend.api_key_env")
    return OpenAIBackend(config, api_key)
