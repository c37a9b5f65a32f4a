"""What every backend takes and gives: a chat request in, a completion with token usage out."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[tuple[str, str], ...]  # (role, content)
    max_tokens: int
    temperature: float = 0.0

    @property
    def params(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature}

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]


@dataclass
class Completion:
    text: str
    finish_reason: str  # stop | length
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


def request_key(backend: str, model: str, request: ChatRequest) -> str:
    """The cache key: the same backend, model, prompt and parameters always give the same key."""
    payload = {"backend": backend, "model": model, "messages": request.message_dicts(), "params": request.params}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Backend(ABC):
    kind: str
    model: str

    @abstractmethod
    async def complete(self, request: ChatRequest) -> Completion:
        """Answer one request (retrying transient failures); raise RequestFailed when it cannot."""

    def endpoint_counts(self) -> dict[str, dict[str, int]]:
        """Per server URL: requests answered, failed attempts, times taken out of rotation (HTTP backends;
        empty for in-process ones)."""
        return {}

    async def aclose(self) -> None:
        """Release connections or memory."""
