"""The recipe's ``evaluate:`` section: benchmarks, the decontamination check, translate-pipeline baselines and
imported lm-eval results, all scored into the same tables."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medadapt.evaluate.freeform_config import FreeformConfig
from medadapt.generate.config import BackendConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenchmarkRef(_Section):
    """A multiple-choice benchmark: JSONL of mcqa records (question, choices, 0-based answer, subject)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    path: str
    format: str = Field("mcqa", description="mcqa (JSONL records) or a data mapping, e.g. gaokerena-mmlu-fa.")
    style: Literal["letters", "cloze", "generate"] = Field(
        "letters",
        description="letters: options shown, score A/B/C/D (MMLU); cloze: score each option's text; "
        "generate: the model answers in a chat turn and its answer is parsed into an option.",
    )
    num_fewshot: int = Field(0, ge=0, description="Solved examples before each question (same per subject).")
    fewshot_path: str | None = Field(
        None, description="Where the solved examples come from; default: the benchmark's first questions of each "
        "subject, which are then not scored.",
    )
    pass_mark: float | None = Field(None, gt=0, le=1, description="Pass/fail threshold on accuracy (e.g. 0.36).")
    limit: int | None = Field(None, gt=0)
    chat_template: bool = Field(
        False, description="letters/cloze: render each prompt with the model's chat template (lm-eval's "
        "--apply_chat_template: description as system message, examples and question as one user turn).")


class DecontaminationConfig(_Section):
    """Before scoring, look for each question in the training data (curate's n-gram matching)."""

    action: Literal["report", "exclude", "off"] = Field(
        "report", description="report: count and list contaminated questions; exclude: also leave them out of "
        "scoring; off: no check.")
    training_data: list[str] | None = Field(
        None, description="JSONL files the model was trained on; default: the train section's inputs.")
    ngram: int = Field(13, gt=1, description="Shared word n-gram length that counts as contamination.")
    min_words: int = Field(8, gt=0, description="Shorter questions must appear whole; shorter still: not judged.")


class LmEvalImport(_Section):
    """A task from an lm-evaluation-harness results file, shown like medadapt's own results."""

    file: str = Field(description="lm-eval's results_<date>.json (its samples_<task>_<date>.jsonl beside it is "
                      "used when present).")
    task: str
    metric: Literal["acc", "acc_norm"] = "acc"
    label: str = Field("lm-eval", description="Column label in the tables.")
    benchmark: str | None = Field(
        None, description="Show it as a column of this benchmark's table (same questions); default: its own table.")


class PipelineConfig(_Section):
    """``evaluate.pipelines[]``: a pivot-language model behind a translator, scored like any other model."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Column label: pipeline:<name>.")
    model: str = Field(description="The pivot-language model (alias, local directory or hub id).")
    pivot_lang: str = Field("en", description="The language the model is asked in.")
    translator: BackendConfig = Field(description="Who translates: any generate backend (openai or local).")
    prompt_lang: str = Field("en", description="Language of the translation prompt (generate/prompts/<lang>.yaml).")
    prompts: str | None = Field(None, description="A folder of <lang>.yaml prompt files overriding the shipped ones.")
    max_new_tokens: int = Field(512, gt=0)


class EvaluateSection(_Section):
    benchmarks: list[BenchmarkRef] = Field(min_length=1)
    batch_size: int = Field(8, gt=0)
    compare_base: bool = Field(True, description="Also score the base model, for a before/after table.")
    decontamination: DecontaminationConfig = Field(default_factory=DecontaminationConfig)
    pipelines: list[PipelineConfig] = Field(
        default_factory=list, description="Translate-pipeline baselines (source → pivot language → a model).")
    lm_eval_results: list[LmEvalImport] = Field(default_factory=list)
    freeform: FreeformConfig | None = Field(
        None, description="Held-out questions answered in free text (timed), judged pairwise and/or against K-QA "
        "statements.")

    @model_validator(mode="after")
    def _names_are_unique_and_known(self):
        names = [b.name for b in self.benchmarks]
        for kind, listed in (("benchmark", names), ("pipeline", [p.name for p in self.pipelines])):
            if len(set(listed)) != len(listed):
                raise ValueError(f"{kind} names must be unique")
        for i, imported in enumerate(self.lm_eval_results):
            if imported.benchmark and imported.benchmark not in names:
                raise ValueError(f"lm_eval_results[{i}].benchmark: no benchmark named {imported.benchmark!r}")
        return self
