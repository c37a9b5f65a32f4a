"""Canonical records. Every record keeps ``id``, ``source`` and ``lang`` from input to training.

Kinds: ``qa`` and ``article`` (what crawl/curate produce), ``chat`` (stage-2 SFT), ``text`` (stage-1
continued pre-training), ``mcqa`` (benchmarks and exam data), ``ner`` (BIO-tagged sentences).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from medadapt.strict import StrictModel


class Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    lang: str = Field(min_length=2, max_length=3)


def _strip_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is blank")
    return value.strip()


class QARecord(Record):
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    url: str = ""

    @field_validator("question", "answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return _strip_not_blank(value)


class ArticleRecord(Record):
    title: str = ""
    text: str = Field(min_length=1)
    url: str = ""

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return _strip_not_blank(value)


class TextRecord(Record):
    text: str = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return _strip_not_blank(value)


class Message(StrictModel):
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
    answers: list[int] | None = Field(
        None, description="Every correct option (0-based, ascending) of a question with several (CMB's 多项选择题); "
        "`answer` is then the first of them. Absent for single-answer questions.")
    subject: str = "general"
    topic: str | None = None
    explanation: str | None = None

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return _strip_not_blank(value)

    @model_validator(mode="after")
    def _answer_in_range(self) -> MCQARecord:
        if self.answer >= len(self.choices):
            raise ValueError(f"answer: index {self.answer} but only {len(self.choices)} choices")
        if self.answers is not None:
            if len(self.answers) < 2 or self.answers != sorted(set(self.answers)):
                raise ValueError("answers: two or more distinct indices in ascending order (one answer: `answer`)")
            if self.answers[-1] >= len(self.choices) or self.answers[0] != self.answer:
                raise ValueError(f"answers: {self.answers} must be options of the {len(self.choices)} and start "
                                 f"with answer {self.answer}")
        return self


class NERRecord(Record):
    tokens: list[str] = Field(min_length=1)
    tags: list[str] = Field(min_length=1, description="BIO tags, one per token (B-TYPE, I-TYPE, O)")

    @model_validator(mode="after")
    def _one_tag_per_token(self) -> NERRecord:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"tags: {len(self.tags)} tags for {len(self.tokens)} tokens")
        bad = [t for t in self.tags if t != "O" and not (t[:2] in ("B-", "I-") and len(t) > 2)]
        if bad:
            raise ValueError(f"tags: not BIO tags: {', '.join(sorted(set(bad)))}")
        return self


RECORD_KINDS: dict[str, type[Record]] = {
    "qa": QARecord,
    "article": ArticleRecord,
    "text": TextRecord,
    "chat": ChatRecord,
    "mcqa": MCQARecord,
    "ner": NERRecord,
}
