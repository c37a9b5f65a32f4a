"""The recipe: one YAML file that describes a whole run, one section per stage.

Every section is optional: a stage runs only when its section is present. Unknown keys are errors (a typo
in a hyper-parameter must not be silently ignored).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medadapt.crawl.section import CrawlSection
from medadapt.curate.config import CurateSection
from medadapt.data.config import DataSection, DataSource  # noqa: F401  (the data section lives with its stage)
from medadapt.evaluate.config import EvaluateSection
from medadapt.generate.config import GenerateSection
from medadapt.train.config import LoraConfig, SFTStageConfig, TrainSection  # noqa: F401  (lives with its stage)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    crawl: CrawlSection | None = None
    curate: CurateSection | None = None
    generate: GenerateSection | None = None
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
