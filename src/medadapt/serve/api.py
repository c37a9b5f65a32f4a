"""The OpenAI chat-completions wire format: the request models, the error body and the response bodies.

Kept apart from FastAPI so that the planner and its tests use them without a web framework; the shapes are
OpenAI's so that existing clients (the ``openai`` package, web UIs) read replies and errors unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medadapt.serve.safety import Notice, Reply


class APIError(Exception):
    """An error a client sees as ``{"error": {"message", "type", "param", "code"}}`` with ``status``."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            if any(p.type != "text" for p in self.content):
                raise APIError(400, "only text content parts are supported", param="messages", code="unsupported_content")
            return "".join(p.text or "" for p in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI fields this server ignores (user, presence_penalty, …)
    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(1, ge=1, le=1)
    stream_options: StreamOptions | None = None
    tools: list[Any] | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, value):
        stops = [value] if isinstance(value, str) else value or []
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("at most 4 non-empty stop sequences")
        return stops


def validation_message(exc: ValidationError) -> tuple[str, str | None]:
    """The first problem as OpenAI reports one: ``"<param>: <message>"`` and the dotted param path."""
    first = exc.errors()[0]
    param = ".".join(str(p) for p in first.get("loc", ())) or None
    return f"{param}: {first.get('msg')}" if param else str(first.get("msg")), param


def model_card(model_id: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": "medadapt"}


def usage(reply: Reply) -> dict[str, int]:
    return {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens}


def metadata(reply: Reply) -> dict[str, Any]:
    """What the safety layer did (``medadapt`` in a response): its interventions and the reply's language."""
    return {"interventions": reply.interventions, "language": reply.lang}


def notice_mark(piece: str) -> dict[str, Any]:
    """A stream chunk's marker for text the safety layer added (``medadapt: {"part": "guidance" | "disclaimer"
    | "note"}``), so a page can show it apart; the model's own words carry none. OpenAI clients ignore the field."""
    return {"medadapt": {"part": piece.kind}} if isinstance(piece, Notice) else {}


SSE_DONE = "data: [DONE]\n\n"


def sse(body: dict[str, Any], ensure_ascii: bool = True) -> str:
    """One server-sent event carrying ``body`` as JSON."""
    return f"data: {json.dumps(body, ensure_ascii=ensure_ascii)}\n\n"


@dataclass
class Completion:
    """The bodies of one completion's response, whole or as stream chunks, all under one id and time."""

    id: str
    created: int
    model: str

    def body(self, text: str, reply: Reply) -> dict[str, Any]:
        """A whole (non-streamed) ``chat.completion``; ``medadapt`` carries the safety layer's metadata."""
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "logprobs": None, "finish_reason": reply.finish_reason}],
            "usage": usage(reply), "medadapt": metadata(reply),
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> str:
        """One ``chat.completion.chunk`` event of a streamed reply."""
        body = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], **extra}
        return sse(body, ensure_ascii=False)

    def usage_chunk(self, reply: Reply) -> str:
        """The last event when ``stream_options.include_usage`` asks for token counts: no choices, only usage."""
        return sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                    "choices": [], "usage": usage(reply)})
