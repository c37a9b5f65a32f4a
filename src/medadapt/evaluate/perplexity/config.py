"""The recipe's ``evaluate.perplexity:`` block: held-out text and Q&A files scored as bits per byte by every
model. Kept apart from the code that runs it so the recipe schema loads no model code."""

from __future__ import annotations

from pydantic import Field, model_validator

from medadapt.strict import StrictModel


class PerplexitySet(StrictModel):
    """One file of documents: text/article records are scored whole (rolling windows), qa/chat records on their
    answers given the question."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="The set's label in tables and file names.")
    path: str = Field(description="The documents: a recipe-relative path, medadapt://… or run://<stage>/….")
    format: str = Field("text", description="A record kind (text, article: rolling log-likelihood of the text; qa, "
                                            "chat: of the answers given the question) or a data mapping, e.g. "
                                            "gaokerena-mf3qa.")
    limit: int | None = Field(None, gt=0, description="Only the first N documents.")


class PerplexityConfig(StrictModel):
    sets: list[PerplexitySet] = Field(min_length=1, description="The files to score, each its own table.")
    max_length: int | None = Field(
        None, gt=1, description="Tokens per rolling window, and the longest conversation scored; default: the "
        "model's context length, as lm-eval's max_length.")
    batch_size: int = Field(4, gt=0, description="Windows or conversations per forward pass.")

    @model_validator(mode="after")
    def _names_are_unique(self) -> PerplexityConfig:
        names = [s.name for s in self.sets]
        if len(set(names)) != len(names):
            raise ValueError("perplexity set names must be unique")
        return self
