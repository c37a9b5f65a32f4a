"""The recipe's ``generate:`` section: one backend, shared generation settings, and a list of tasks.

The API key is never part of the recipe: ``api_key_env`` names the environment variable that holds it, so
recipes, manifests and logs can be shared without leaking it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Price(_Section):
    """US dollars per million tokens; overrides the shipped table (generate/pricing.yaml)."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class BackendConfig(_Section):
    kind: Literal["openai", "local", "vllm"] = Field(
        "openai", description="openai: any OpenAI-compatible HTTP endpoint (vLLM, TGI, llama.cpp, a hosted API); "
        "local: transformers on this machine (batched); vllm: vLLM in this process (batched; a CUDA GPU and "
        "`pip install vllm`)."
    )
    model: str | None = Field(None, description="openai: the served model name; local, vllm: an alias, directory "
                                                "or hub id (default: the recipe's model).")
    base_url: str | None = Field(None, description="openai: e.g. http://127.0.0.1:8000/v1")
    api_key_env: str | None = Field(None, description="Name of the environment variable holding the API key.")
    concurrency: int = Field(8, gt=0, description="Requests in flight at once (openai).")
    batch_size: int = Field(8, gt=0, description="Prompts per generate() call (local) or LLM.chat() call (vllm; "
                                                 "vLLM batches well: try 64 or more).")
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(5, ge=0, description="Retries on 429, 5xx, timeouts and unreadable bodies.")
    retry_backoff_s: float = Field(1.0, ge=0, description="First backoff; doubles per retry (Retry-After wins).")
    price: Price | None = None

    @property
    def in_process(self) -> bool:
        """The model runs in this process (local, vllm): nothing to pay per token, batched not concurrent."""
        return self.kind != "openai"

    @model_validator(mode="after")
    def _openai_needs_url_and_model(self) -> BackendConfig:
        if self.kind == "openai" and (not self.base_url or not self.model):
            raise ValueError("an openai backend needs base_url and model")
        return self


class TaskBase(_Section):
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]+$", description="Output file stem; default: the task.")
    input: str = Field(description="JSONL of records: a recipe-relative path, medadapt://… or run://<stage>/….")
    languages: list[str] | None = Field(None, description="Only records in these languages (e.g. the ones the "
                                        "backend's model writes well).")
    limit: int | None = Field(None, gt=0, description="Only the first N records (for trials and demos).")
    max_new_tokens: int | None = Field(None, gt=0)
    temperature: float | None = Field(None, ge=0)

    @property
    def output_name(self) -> str:
        return self.name or self.task  # type: ignore[attr-defined]


class ReviewConfig(_Section):
    """BiMediX's human check: every low-score item plus a random share of the high-score ones."""

    below: float = Field(80, ge=0, le=100, description="Items whose final score is below this are all exported.")
    sample_high: float = Field(0.05, ge=0, le=1, description="Share of the other items exported at random.")
    decisions: str | None = Field(None, description="The reviewers' file (CSV or JSONL) to apply: id, field, "
                                                    "decision (accept|reject|edit), edit.")


class CycleConfig(_Section):
    """Back-translate and keep a translation only when it comes back close to the source."""

    min_bleu: float = Field(0, ge=0, le=100)
    min_chrf: float = Field(0, ge=0, le=100)
    min_cosine: float = Field(0, ge=-1, le=1, description="Embedding cosine; only where an embedding model fits "
                                                          "the source language (English: all-MiniLM-L6-v2).")


class TranslateTask(TaskBase):
    task: Literal["translate"]
    format: Literal["qa", "mcqa", "article", "text"] = "qa"
    source_lang: str
    target_lang: str
    prompt_lang: str = Field("en", description="Language of the instructions sent to the model.")
    threshold: float = Field(80, ge=0, le=100, description="Refine while the self-score is below this.")
    max_rounds: int = Field(3, gt=0, description="Translation rounds at most (the first one included).")
    review: ReviewConfig | None = None
    cycle: CycleConfig | None = None


class ExpandTask(TaskBase):
    task: Literal["expand"]


class QAGenerateTask(TaskBase):
    task: Literal["qa_generate"]
    format: Literal["article", "text"] = "article"


class JudgeTask(TaskBase):
    task: Literal["judge"]
    keep_threshold: float = Field(0.6, ge=0, le=1, description="Keep a record when every criterion reaches this.")


class ConversationTask(TaskBase):
    task: Literal["conversation"]
    min_turns: int = Field(4, ge=2, le=6, description="Patient and doctor turns at least (the prompt allows 6).")


GenerateTask = Annotated[TranslateTask | ExpandTask | QAGenerateTask | JudgeTask | ConversationTask,
                         Field(discriminator="task")]


class GenerateSection(_Section):
    """LLM-made data: translation, answer expansion, QA generation, judging; cached and resumable."""

    backend: BackendConfig = Field(default_factory=lambda: BackendConfig(kind="local"))
    max_new_tokens: int = Field(512, gt=0)
    temperature: float = Field(0.0, ge=0)
    prompts: str | None = Field(None, description="A folder of <lang>.yaml prompt files that override the shipped "
                                                  "ones (generate/prompts/).")
    tasks: list[GenerateTask] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> GenerateSection:
        names = [t.output_name for t in self.tasks]
        if len(names) != len(set(names)):
            raise ValueError("tasks: two tasks write the same file; give them different `name`s")
        return self
