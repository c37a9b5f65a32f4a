"""The recipe: one YAML file that describes a whole run, one section per stage.

Every section is optional: a stage runs only when its section is present; the report's is present by default
whenever another stage is (``report: false`` turns it off). Unknown keys are errors (a typo
in a hyper-parameter must not be silently ignored).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from medadapt.crawl.section import CrawlSection
from medadapt.curate.config import CurateSection
from medadapt.format.config import DataSection, DataSource  # noqa: F401  (the data section lives with its stage)
from medadapt.evaluate.config import EvaluateSection
from medadapt.generate.config import GenerateSection
from medadapt.train.config import LoraConfig, SFTStageConfig, TrainSection  # noqa: F401  (lives with its stage)
from medadapt.strict import StrictModel


class ReportSection(StrictModel):
    """The report of every stage that ran; made by default (``report: false`` turns it off)."""

    title: str | None = Field(None, description="The report's title; default: `medadapt run: <name>`.")
    paper_table: str | None = Field(
        None, description="Also lay the results out as a paper's main table: a shipped one (gaokerena, mmed-ift, "
                          "bimedix, collectivesft: report/papers/<name>.yaml) or a YAML file of the same shape "
                          "(recipe-relative); the paper's published figures are shown beside ours when the run uses "
                          "the paper's model. Null: none.")


class ChatSection(StrictModel):
    """How `medadapt chat` and `medadapt serve` answer with the run's model (saved beside an exported model)."""

    system_prompt: str | None = Field(None, description="Sent first in every conversation; null: none.")
    max_new_tokens: int = Field(256, gt=0, description="Longest reply, in tokens.")
    temperature: float = Field(0.7, ge=0.0, description="Sampling temperature (0: greedy).")
    top_p: float = Field(0.9, gt=0.0, le=1.0, description="Nucleus sampling: the smallest token set with this much probability.")
    repetition_penalty: float = Field(1.1, gt=0.0, description="Above 1, tokens already in the conversation are less likely.")
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$", description=(
        "ISO 3166-1 code of the country the assistant serves (IR, SA, CN, JP, KR, FR, ES, US, ...): the emergency "
        "guidance names its numbers (115 in Iran, 15 / 112 in France); null: each language's own country where it "
        "has one (fa: IR, zh: CN, ja: JP, ko: KR), else 112 / 911 / 999."))


class Recipe(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Run name: runs/<name>/.")
    languages: list[str] = Field(min_length=1, description="ISO 639 codes of the languages the run trains and evaluates (e.g. [fa, en]).")
    model: str = Field(description="An alias (medadapt models list), a local directory, or a hub id.")
    chat_template: str | None = Field(
        None, description="A shipped template name (chatml, gemma, vicuna) or a YAML file; default: the model's own."
    )
    seed: int = Field(0, description="Seed for every sampled choice (splits, caps, mixing, training).")
    trust_remote_code: bool = Field(
        False, description="Run the Python code a model ships beside its weights (`auto_map` in its config.json, "
                           "e.g. InternLM2.5): passed to every transformers load of the recipe's models (train, "
                           "evaluate, the local and vLLM backends, chat, serve, export), with a warning. Off, such a "
                           "model is refused with a one-line error naming this key.")
    data_dir: str | None = Field(
        None, description="Folder that `data://<dataset>/<file>` references point into (public datasets the recipe "
                          "reads; relative to the recipe's folder). `--data-dir` and `MEDADAPT_DATA` take precedence.")
    profiles: dict[str, dict[str, Any] | None] = Field(
        default_factory=dict, description="Named partial recipes laid over this one by `--profile NAME` (mappings "
                                          "merge key by key, other values replace, null drops a section; the run is "
                                          "named `<name>-<profile>` unless the profile sets `name`), e.g. `smoke` "
                                          "for a CPU-sized run of a GPU recipe.")
    profile: str | None = Field(
        None, description="The profile applied when the command line names none; a run's saved recipe records the "
                          "one it ran with (its `profiles` already applied and removed).")
    crawl: CrawlSection | None = Field(None, description="Crawl medical Q&A sites; null: no crawl stage.")
    curate: CurateSection | None = Field(None, description="Clean, filter and split record files; null: no curate stage.")
    generate: GenerateSection | None = Field(None, description="Make data with an LLM; null: no generate stage.")
    data: DataSection | None = Field(None, description="Read sources into training chats and text; null: no data stage.")
    train: TrainSection | None = Field(None, description="Fine-tune the model (stage 1 text, stage 2 chats); null: no training.")
    evaluate: EvaluateSection | None = Field(None, description="Score benchmarks, base and trained; null: no evaluation.")
    report: ReportSection | None = Field(default_factory=ReportSection, description="The HTML/Markdown report, "
                                         "made after the other stages by default; `false` (or null) makes none.")
    chat: ChatSection = Field(default_factory=ChatSection, description="Settings for `medadapt chat` and `serve`.")

    @field_validator("report", mode="before")
    @classmethod
    def _report_off(cls, value: object) -> object:
        """``report: false`` is the one way to say no report (the section is there unless turned off)."""
        return None if value is False else {} if value is True else value

    @model_validator(mode="after")
    def _report_of_something(self) -> Recipe:
        """The default report needs a stage to report on; a recipe with none (a chat-only recipe) makes none."""
        stages = (self.crawl, self.curate, self.generate, self.data, self.train, self.evaluate)
        if "report" not in self.model_fields_set and all(section is None for section in stages):
            self.report = None
        return self

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not (code.isascii() and code.isalpha() and code.islower() and 2 <= len(code) <= 3)]
        if bad:
            raise ValueError(f"not ISO 639 language codes: {', '.join(bad)} (use e.g. en, fa, ar)")
        return value
