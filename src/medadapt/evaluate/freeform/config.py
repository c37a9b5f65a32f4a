"""The recipe's ``evaluate.freeform:`` block: held-out questions answered in free text (with latency), then
judged pairwise and/or checked against K-QA's physician statements by an LLM judge.

Kept apart from the code that runs it so that the recipe schema can import it without loading backends.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medadapt.llm.config import BackendConfig
from medadapt.strict import StrictModel


class JudgeConfig(StrictModel):
    """Who judges, in which language, and which models are compared."""

    backend: BackendConfig = Field(description="Any generate backend (openai or local); its requests are cached, "
                                               "so a re-run sends nothing twice.")
    prompts: str | None = Field(None, description="A folder of <lang>.yaml judge prompts that replace the shipped "
                                                  "ones (evaluate/freeform/judge_prompts/).")
    prompt_lang: str | None = Field(None, description="Language of the judge's instructions; default: each "
                                                      "question's own language.")
    max_new_tokens: int = Field(256, gt=0, description="Room for the verdict JSON and its one-sentence reason.")
    pairs: list[tuple[str, str]] | None = Field(
        None, description="[A, B] model labels to compare (e.g. [trained, base]); default: the last model against "
                          "each of the others.")


class FreeformConfig(StrictModel):
    questions: str = Field(description="Held-out questions with reference answers: a recipe-relative path, "
                                       "medadapt://… or run://<stage>/….")
    format: str = Field("qa", description="qa (JSONL records) or a data mapping, e.g. kqa (keeps Must_have and "
                                          "Nice_to_have for the kqa check).")
    limit: int | None = Field(None, gt=0, description="Only the first N questions.")
    max_new_tokens: int = Field(512, gt=0, description="Longest answer, in tokens (greedy decoding).")
    checks: list[Literal["pairwise", "kqa"]] = Field(
        default_factory=list, description="pairwise: an LLM judge compares two models' answers in both orders; "
                                          "kqa: coverage of and contradiction with the physicians' statements.")
    judge: JudgeConfig | None = Field(None, description="The LLM judge; needed by every check.")

    @model_validator(mode="after")
    def _checks_have_a_judge(self) -> FreeformConfig:
        if len(set(self.checks)) != len(self.checks):
            raise ValueError("checks: each check once")
        if self.checks and self.judge is None:
            raise ValueError(f"checks {', '.join(self.checks)} need a judge (judge.backend)")
        return self
