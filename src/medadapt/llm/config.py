"""How to reach a model: the ``backend`` of a recipe's generate section, of a judge and of a translator.

The API key is never part of the recipe: ``api_key_env`` names the environment variable that holds it, so
recipes, manifests and logs can be shared without leaking it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medadapt.strict import StrictModel


class Price(StrictModel):
    """US dollars per million tokens; overrides the shipped table (llm/pricing.yaml)."""

    input_per_mtok: float = Field(ge=0, description="US dollars per million prompt tokens.")
    output_per_mtok: float = Field(ge=0, description="US dollars per million completion tokens.")


class BackendConfig(StrictModel):
    kind: Literal["openai", "local", "vllm", "llamacpp"] = Field(
        "openai", description="openai: any OpenAI-compatible HTTP endpoint (vLLM, TGI, llama.cpp, a hosted API); "
        "local: transformers on this machine (batched); vllm: vLLM in this process (batched; a CUDA GPU and "
        "`pip install vllm`); llamacpp: a GGUF file through llama.cpp in this process (fast on a CPU; "
        "`pip install 'medadapt[llamacpp]'`)."
    )
    model: str | None = Field(None, description="openai: the served model name; local, vllm: an alias, directory "
                                                "or hub id (default: the recipe's model); llamacpp: a .gguf file "
                                                "(e.g. one `medadapt export --gguf` wrote).")
    base_url: str | list[str] | None = Field(
        None, description="openai: e.g. http://127.0.0.1:8000/v1, or a list of such URLs serving the same model "
        "(several vLLM servers): requests go to the least busy one, and a failed request is retried on another.")
    api_key_env: str | None = Field(None, description="Name of the environment variable holding the API key.")
    concurrency: int = Field(8, gt=0, description="Requests in flight at once (openai), per base URL.")
    batch_size: int = Field(8, gt=0, description="Prompts per generate() call (local) or LLM.chat() call (vllm; "
                                                 "vLLM batches well: try 64 or more).")
    timeout_s: float = Field(60.0, gt=0, description="Seconds one request may take (openai) before it is retried.")
    max_retries: int = Field(5, ge=0, description="Retries on 429, 5xx, timeouts and unreadable bodies.")
    retry_backoff_s: float = Field(1.0, ge=0, description="First backoff; doubles per retry (Retry-After wins).")
    endpoint_cooldown_s: float = Field(30.0, ge=0, description="openai with several base URLs: seconds a URL that "
                                       "failed (refused connection, 5xx, timeout) is left out before it is tried again.")
    price: Price | None = Field(None, description="Token prices for the cost estimate; default: the shipped table (llm/pricing.yaml).")

    @property
    def in_process(self) -> bool:
        """The model runs in this process (local, vllm, llamacpp): nothing to pay per token, batched not
        concurrent."""
        return self.kind != "openai"

    @property
    def base_urls(self) -> list[str]:
        """``base_url`` as a list (one URL or several)."""
        if self.base_url is None:
            return []
        return [self.base_url] if isinstance(self.base_url, str) else list(self.base_url)

    @model_validator(mode="after")
    def _openai_needs_url_and_model(self) -> BackendConfig:
        if self.kind == "openai" and (not self.base_url or not self.model):
            raise ValueError("an openai backend needs base_url and model")
        if len(set(self.base_urls)) != len(self.base_urls):
            raise ValueError("base_url lists the same URL twice")
        return self
