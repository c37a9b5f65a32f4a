"""What every task shares: how it asks (prompts, settings, the client), how it names outputs and rejections,
and the provenance each output carries (backend, model, prompt hashes, scores)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from medadapt.records.quarantine import rejection
from medadapt.records.kinds import Record
from medadapt.generate.config import TaskBase
from medadapt.llm.prompts import PromptSet, load_prompts
from medadapt.llm.backend import ChatRequest, Completion
from medadapt.llm.client import Client
from medadapt.llm.errors import MalformedResponse


@dataclass
class TaskEnv:
    client: Client
    prompts_dir: Path | None
    max_new_tokens: int
    temperature: float
    input_file: str
    resolve: Callable[[str], Path]  # a recipe file reference as a path
    seed: int = 0
    prompt_set: str = "default"  # generate.prompt_set
    judges: list[Client] = field(default_factory=list)  # a judge task's own judges (empty: ``client`` judges)
    say: Callable[[str], None] = print  # one line for the user (the stage's console)


@dataclass
class ItemResult:
    outputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # file stem -> records
    rejected: list[dict[str, Any]] = field(default_factory=list)


class TaskRunner(ABC):
    record_kind: ClassVar[str] = "qa"

    def __init__(self, config: TaskBase, env: TaskEnv):
        self.config = config
        self.env = env
        self._prompt_sets: dict[str, PromptSet] = {}
        self.notes: dict[str, Any] = {}  # task-specific counts for stats.json

    @property
    def name(self) -> str:
        return self.config.output_name

    def output_stems(self) -> list[str]:
        return [self.name]

    def prompts(self, lang: str) -> PromptSet:
        if lang not in self._prompt_sets:
            self._prompt_sets[lang] = load_prompts(lang, self.env.prompts_dir, self.env.prompt_set)
        return self._prompt_sets[lang]

    async def ask(self, lang: str, step: str, via: Client | None = None, **values: Any) -> Completion:
        """The answer to ``step``'s prompt filled with ``values``, from ``via`` (default: the task's client)."""
        prompt = self.prompts(lang)[step]
        request = ChatRequest(prompt.messages(**values),
                              max_tokens=self.config.max_new_tokens or self.env.max_new_tokens,
                              temperature=self.env.temperature if self.config.temperature is None else self.config.temperature)
        return await (via or self.env.client).ask(request)

    def provenance(self, record: Record, lang: str, steps: tuple[str, ...], **scores: Any) -> dict[str, Any]:
        backend = self.env.client.backend
        return {"task": self.config.task, "item": record.id, "backend": backend.kind, "model": backend.model,
                "prompts": {step: self.prompts(lang)[step].hash for step in steps}, **scores}

    def rejected(self, record: Record, step: str, reason: str, raw: str | None = None, **extra: Any) -> dict[str, Any]:
        entry = rejection(self.env.input_file, None, step, reason, record.model_dump(mode="json", exclude_none=True),
                          stage="generate", step=f"{self.name}.{step}", rule=step)
        if raw is not None:
            entry["raw"] = raw
        return entry | extra

    def malformed(self, record: Record, step: str, exc: MalformedResponse, **extra: Any) -> ItemResult:
        return ItemResult(rejected=[self.rejected(record, step, f"malformed answer: {exc.reason}", exc.raw, **extra)])

    @abstractmethod
    async def process(self, record: Record) -> ItemResult:
        """Ask what this item needs; return its outputs or why it was rejected. Never raises MalformedResponse."""

    def finalize(self, outputs: dict[str, list[dict[str, Any]]], out_dir: Path) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
        """After every item: last changes to the outputs (e.g. reviewers' decisions) and extra rejections."""
        return outputs, []
