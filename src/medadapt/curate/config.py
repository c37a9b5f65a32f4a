"""The recipe's ``curate:`` section: inputs, the list of steps (each a small typed spec) and the split.

Steps are a list so that the order is the user's: ``[{step: normalize}, {step: exact_dedup}, …]``. A
``preset`` (a YAML file shipped in ``curate/data/presets``) supplies the steps when none are listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PRESETS = Path(__file__).with_name("data") / "presets"

Kind = Literal["qa", "article"]


class _Spec(BaseModel):
    # the same rule as every recipe section (kept here to avoid importing the schema, which imports us)
    model_config = ConfigDict(extra="forbid")


class CurateInput(_Spec):
    """One JSONL file of crawled records: ``qa`` (question, answer) or ``article`` (title, text)."""

    path: str = Field(description="run://crawl/qa.jsonl, medadapt://…, or a path relative to the recipe.")
    kind: Kind
    source: str | None = Field(None, description="Override the records' `source`.")


class NormalizeSpec(_Spec):
    step: Literal["normalize"]
    digits: Literal["latin", "persian", "keep"] = Field("latin", description="Write every digit in one script.")
    remove_diacritics: bool = Field(False, description="Strip Arabic harakat/tanwin (kept by default).")
    repair_zwnj: bool = Field(True, description="Join Persian prefixes/suffixes (می، ها، ترین…) with ZWNJ.")


class LanguageSpec(_Spec):
    step: Literal["language"]
    min_confidence: float = Field(0.8, ge=0.0, le=1.0, description="Below this, the record is rejected.")
    on_mismatch: Literal["relabel", "reject"] = Field(
        "relabel", description="When the detected language differs from the record's `lang`."
    )
    max_chars: int = Field(2000, gt=0, description="Classify on the first N characters.")


QAField = Literal["question", "answer", "question+answer"]


class ExactDedupSpec(_Spec):
    step: Literal["exact_dedup"]
    qa_field: QAField = Field("question", description="What makes two Q&A records the same (articles: text).")


class NearDedupSpec(_Spec):
    step: Literal["near_dedup"]
    qa_field: QAField = "question"
    threshold: float = Field(0.8, gt=0.0, le=1.0, description="Estimated Jaccard similarity of word n-grams.")
    ngram: int = Field(5, gt=0, description="Words per shingle.")
    num_perm: int = Field(128, ge=16, description="MinHash permutations.")


class LengthSpec(_Spec):
    """Article length (title excluded)."""

    step: Literal["length"]
    min_words: int = Field(50, ge=0)
    max_words: int | None = Field(None, gt=0)
    min_chars: int = Field(0, ge=0)
    max_chars: int | None = Field(None, gt=0)


class AnswerLengthSpec(_Spec):
    """Q&A answer length: Gaokerena's main filter (short answers are mostly 'see a doctor')."""

    step: Literal["answer_length"]
    min_words: int = Field(0, ge=0)
    max_words: int | None = Field(None, gt=0)
    min_chars: int = Field(0, ge=0)
    max_chars: int | None = Field(None, gt=0)


class RepetitionSpec(_Spec):
    """Gopher-style repetition limits (Rae et al. 2021, table A1)."""

    step: Literal["repetition"]
    max_duplicate_line_fraction: float = Field(0.30, ge=0.0, le=1.0)
    max_duplicate_line_char_fraction: float = Field(0.20, ge=0.0, le=1.0)
    max_top_ngram_char_fraction: dict[int, float] = Field(default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16})
    max_duplicate_ngram_char_fraction: dict[int, float] = Field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    )
    min_words: int = Field(20, ge=0, description="Shorter texts are not judged (their ratios are noise).")


class KnowledgeDensitySpec(_Spec):
    """MMed-IFT's knowledge density: distinct medical keywords and the share of characters they cover."""

    step: Literal["knowledge_density"]
    min_keywords: int = Field(2, ge=0, description="Distinct keywords at least.")
    min_coverage: float = Field(0.0, ge=0.0, le=1.0, description="Share of non-space characters in keywords.")
    keywords: dict[str, str] = Field(
        default_factory=dict, description="Per language, a keyword file (one term a line) replacing the shipped one."
    )


PIIType = Literal["email", "url", "phone", "national_id", "card", "name"]


class PIISpec(_Spec):
    step: Literal["pii"]
    types: list[PIIType] = Field(
        default_factory=lambda: ["email", "url", "phone", "national_id", "card", "name"],
        description="What to replace with typed placeholders ([EMAIL], [PHONE], …).",
    )


class DecontaminateSpec(_Spec):
    step: Literal["decontaminate"]
    ngram: int = Field(13, gt=0, description="Words per n-gram shared with an evaluation item.")
    min_words: int = Field(8, gt=0, description="Shorter evaluation questions must appear whole.")
    use_recipe_benchmarks: bool = Field(True, description="Also check the recipe's evaluate.benchmarks.")
    extra: list[str] = Field(default_factory=list, description="More JSONL files with a `question` field.")


StepSpec = Annotated[
    Union[
        NormalizeSpec, LanguageSpec, ExactDedupSpec, NearDedupSpec, LengthSpec, AnswerLengthSpec,
        RepetitionSpec, KnowledgeDensitySpec, PIISpec, DecontaminateSpec,
    ],
    Field(discriminator="step"),
]


class SplitSpec(_Spec):
    """By source (test sites unseen in training, as Gaokerena did) or at random by a hash of the id."""

    by: Literal["random", "source"] = "random"
    test_fraction: float = Field(0.0, ge=0.0, lt=1.0)
    dev_fraction: float = Field(0.0, ge=0.0, lt=1.0)
    test_sources: list[str] = Field(default_factory=list)
    dev_sources: list[str] = Field(default_factory=list)
    seed: int | None = Field(None, description="Default: the recipe's seed.")

    @model_validator(mode="after")
    def _consistent(self) -> SplitSpec:
        if self.by == "random" and self.test_fraction + self.dev_fraction >= 1.0:
            raise ValueError("test_fraction + dev_fraction must leave something to train on")
        if self.by == "source" and (self.test_fraction or self.dev_fraction):
            raise ValueError("by: source takes test_sources/dev_sources, not fractions")
        if self.by == "random" and (self.test_sources or self.dev_sources):
            raise ValueError("test_sources/dev_sources need by: source")
        return self


class EngineSpec(_Spec):
    """Where the per-document steps run. Deduplication always runs in the main process (it needs every
    document); datatrove shards the rest over ``tasks`` (optional extra: ``pip install medadapt[scale]``)."""

    kind: Literal["inprocess", "datatrove"] = "inprocess"
    executor: Literal["local"] = Field("local", description="datatrove executor (its local process pool).")
    tasks: int = Field(4, ge=1, description="Shards; a restarted run skips shards already completed.")
    workers: int = Field(-1, description="Parallel processes (-1: one per task).")


class CurateSection(_Spec):
    """Curate crawled records: a pipeline of steps, each counting what it removed and why."""

    inputs: list[CurateInput] = Field(min_length=1)
    preset: str | None = Field(None, description="A shipped step list (e.g. gaokerena_qa) used when `steps` is absent.")
    steps: list[StepSpec] = Field(default_factory=list)
    split: SplitSpec = Field(default_factory=SplitSpec)
    engine: EngineSpec = Field(default_factory=EngineSpec)
    examples_per_reason: int = Field(5, ge=0, description="Random rejected examples per reason in the report.")

    @model_validator(mode="before")
    @classmethod
    def _preset_steps(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") is not None:
            if data.get("steps"):
                raise ValueError("give either `preset` or `steps`, not both")
            data = {**data, "steps": load_preset(str(data["preset"]))}
        return data

    def file_references(self) -> list[tuple[str, str]]:
        """``(place, reference)`` of every file the section names, for the recipe loader to check."""
        places = [(f"inputs.{i}.path", source.path) for i, source in enumerate(self.inputs)]
        for i, spec in enumerate(self.steps):
            if isinstance(spec, DecontaminateSpec):
                places += [(f"steps.{i}.extra.{j}", ref) for j, ref in enumerate(spec.extra)]
            if isinstance(spec, KnowledgeDensitySpec):
                places += [(f"steps.{i}.keywords.{lang}", ref) for lang, ref in spec.keywords.items()]
        return places

    @model_validator(mode="after")
    def _has_steps(self) -> CurateSection:
        if not self.steps:
            raise ValueError("steps: list at least one step, or name a preset")
        return self


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def load_preset(name: str) -> list[dict[str, Any]]:
    """The step list of a shipped preset."""
    path = PRESETS / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown preset {name!r} (shipped: {', '.join(preset_names())})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))["steps"]
