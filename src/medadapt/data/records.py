"""Canonical records. Every record keeps ``id``, ``source`` and ``lang`` from input to training."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    lang: str = Field(min_length=2, max_length=3)


class QARecord(Record):
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    url: str = ""

    @field_validator("question", "answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is blank")
        return value.strip()


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ChatRecord(Record):
    messages: list[Message] = Field(min_length=2)

    @model_validator(mode="after")
    def _has_assistant_turn(self) -> ChatRecord:
        if not any(m.role == "assistant" for m in self.messages):
            raise ValueError("messages: no assistant turn to learn from")
        return self


class MCQARecord(Record):
    question: str = Field(min_length=1)
    choices: list[str] = Field(min_length=2)
    answer: int = Field(ge=0, description="0-based index into choices")
    subject: str = "general"
    explanation: str | None = None

    @model_validator(mode="after")
    def _answer_in_range(self) -> MCQARecord:
        if self.answer >= len(self.choices):
            raise ValueError(f"answer: index {self.answer} but only {len(self.choices)} choices")
        return self
