"""The recipe: one YAML file that describes a whole run, one section per stage.

Every section is optional: a stage runs only when its section is present. Unknown keys are errors (a typo
in a hyper-parameter must not be silently ignored).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(Section):
    """One input file of Q&A records (``id, source, lang, question, answer``) as JSONL."""

    path: str = Field(description="JSONL file: a path relative to the recipe, or medadapt://...")
    source: str | None = Field(None, description="Override the records' `source` (for mixing and licences).")


class DataSection(Section):
    """Format: turn Q&A records into chat records for stage-2 SFT."""

    qa: list[DataSource] = Field(min_length=1)
    system_prompt: dict[str, str] = Field(
        default_factory=dict, description="System prompt per language; none when the language is absent."
    )
    max_examples: int | None = Field(None, gt=0)
    dev_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="Share of chats held out for the dev split.")


class LoraConfig(Section):
    r: int = Field(8, gt=0)
    alpha: int = Field(16, gt=0)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: str | list[str] = "all-linear"


class SFTStageConfig(Section):
    """Stage 2: supervised fine-tuning on chats, loss on assistant tokens only."""

    method: Literal["lora"] = "lora"
    lora: LoraConfig = Field(default_factory=LoraConfig)
    max_steps: int = Field(30, gt=0)
    batch_size: int = Field(2, gt=0)
    grad_accum: int = Field(1, gt=0)
    learning_rate: float = Field(2e-4, gt=0)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0)
    max_grad_norm: float = Field(1.0, gt=0)
    max_length: int = Field(256, gt=8)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on a GPU that supports it, fp32 on CPU (CPU bf16 autocast is slow)."
    )
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory (useful on a GPU).")
    threads: int | None = Field(None, gt=0, description="CPU threads for torch; default: all cores.")


class TrainSection(Section):
    stage2: SFTStageConfig


class BenchmarkRef(Section):
    """A multiple-choice benchmark: JSONL of mcqa records (question, choices, 0-based answer, subject)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    path: str
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


class EvaluateSection(Section):
    benchmarks: list[BenchmarkRef] = Field(min_length=1)
    batch_size: int = Field(8, gt=0)
    compare_base: bool = Field(True, description="Also score the base model, for a before/after table.")


class ReportSection(Section):
    title: str | None = None


class ChatSection(Section):
    system_prompt: str | None = None
    max_new_tokens: int = Field(256, gt=0)
    temperature: float = Field(0.7, ge=0.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    repetition_penalty: float = Field(1.1, gt=0.0)


class Recipe(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Run name: runs/<name>/.")
    languages: list[str] = Field(min_length=1)
    model: str = Field(description="An alias (medadapt models list), a local directory, or a hub id.")
    chat_template: str | None = Field(
        None, description="A shipped template name (chatml, gemma) or a YAML file; default: the model's own."
    )
    seed: int = 0
    data: DataSection | None = None
    train: TrainSection | None = None
    evaluate: EvaluateSection | None = None
    report: ReportSection | None = None
    chat: ChatSection = Field(default_factory=ChatSection)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not (code.isascii() and code.isalpha() and code.islower() and 2 <= len(code) <= 3)]
        if bad:
            raise ValueError(f"not ISO 639 language codes: {', '.join(bad)} (use e.g. en, fa, ar)")
        return value
