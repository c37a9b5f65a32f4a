"""The recipe's ``curate:`` section: inputs, the list of steps (each a small typed spec) and the split.

Steps are a list so that the order is the user's: ``[{step: normalize}, {step: exact_dedup}, …]``. A
``preset`` (a YAML file shipped in ``curate/data/presets``) supplies the steps when none are listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import Field, TypeAdapter, model_validator

from medadapt.records.losses import LossLimits
from medadapt.records.source import RecordFile
from medadapt.strict import StrictModel

PRESETS = Path(__file__).with_name("data") / "presets"

Kind = Literal["qa", "article"]


class CurateInput(RecordFile):
    """One file of crawled records, ``qa`` (question, answer) or ``article`` (title, text): canonical JSONL
    (``kind``), or any supported file through a ``format``/``mapping`` (CSV, XLSX, JSON, JSONL, Parquet), read
    as the data stage reads its sources."""

    format: str | None = Field(None, description="A shipped mapping (e.g. gaokerena-mf3qa; see `medadapt data "
                               "formats`) or a record kind (qa, article); default: `kind`.")
    kind: Kind | None = Field(None, description="The record kind of a canonical file (qa or article); with a "
                              "`format` or `mapping`, the kind it must give (default: the mapping's).")

    @property
    def reader(self) -> str:
        return self.mapping or self.format or str(self.kind)

    @model_validator(mode="after")
    def _kind_known(self) -> CurateInput:
        if self.kind is None and self.format is None and self.mapping is None:
            raise ValueError("give `kind` (qa or article) for a canonical file, or a `format`/`mapping`")
        given = self.shipped_kind()
        if given is not None and given not in ("qa", "article"):
            raise ValueError(f"curate reads qa or article records; {self.reader!r} gives {given} records")
        if given is not None and self.kind is not None and given != self.kind:
            raise ValueError(f"kind {self.kind} differs from what {self.reader!r} gives ({given})")
        return self


class NormalizeSpec(StrictModel):
    step: Literal["normalize"] = Field(description="normalize: one digit script, Persian ZWNJ, optional diacritics and Chinese script.")
    digits: Literal["latin", "persian", "keep"] = Field("latin", description="Write every digit in one script.")
    remove_diacritics: bool = Field(False, description="Strip Arabic harakat/tanwin (kept by default).")
    repair_zwnj: bool = Field(True, description="Join Persian prefixes/suffixes (می، ها، ترین…) with ZWNJ.")
    simplified_chinese: bool = Field(False, description="Write Chinese (zh) text in Simplified characters "
                                     "(OpenCC t2s), for Traditional sources (Taiwan, Hong Kong).")


class LanguageSpec(StrictModel):
    step: Literal["language"] = Field(description="language: detect each record's language; relabel or reject mismatches.")
    min_confidence: float = Field(0.8, ge=0.0, le=1.0, description="Below this, the record is rejected.")
    on_mismatch: Literal["relabel", "reject"] = Field(
        "relabel", description="When the detected language differs from the record's `lang`."
    )
    max_chars: int = Field(2000, gt=0, description="Classify on the first N characters.")


QAField = Literal["question", "answer", "question+answer"]


class ExactDedupSpec(StrictModel):
    step: Literal["exact_dedup"] = Field(description="exact_dedup: drop records whose canonical text repeats an earlier one.")
    qa_field: QAField = Field("question", description="What makes two Q&A records the same (articles: text).")


class NearDedupSpec(StrictModel):
    step: Literal["near_dedup"] = Field(description="near_dedup: drop near-duplicates (MinHash over word n-grams).")
    qa_field: QAField = Field("question", description="What two Q&A records are compared on (articles: text).")
    threshold: float = Field(0.8, gt=0.0, le=1.0, description="Estimated Jaccard similarity of word n-grams.")
    ngram: int = Field(5, gt=0, description="Words per shingle (zh, ja: characters, ko: words; scaled by "
                       "medadapt/text/data/languages.yaml per_english.ngram).")
    num_perm: int = Field(128, ge=16, description="MinHash permutations.")


class LengthSpec(StrictModel):
    """Article length (title excluded). Words and characters as a language with spaces counts them; Chinese,
    Japanese and Korean count their own, and scale these numbers (medadapt/text/data/languages.yaml
    per_english)."""

    step: Literal["length"] = Field(description="length: reject articles outside the word/character bounds.")
    min_words: int = Field(50, ge=0, description="Fewer words than this: rejected.")
    max_words: int | None = Field(None, gt=0, description="More words than this: rejected; null: no limit.")
    min_chars: int = Field(0, ge=0, description="Fewer characters than this: rejected.")
    max_chars: int | None = Field(None, gt=0, description="More characters than this: rejected; null: no limit.")


class AnswerLengthSpec(StrictModel):
    """Q&A answer length: Gaokerena's main filter (short answers are mostly 'see a doctor'). Scaled per
    language as `length` is."""

    step: Literal["answer_length"] = Field(description="answer_length: reject Q&A records whose answer is outside the bounds.")
    min_words: int = Field(0, ge=0, description="Answers with fewer words: rejected.")
    max_words: int | None = Field(None, gt=0, description="Answers with more words: rejected; null: no limit.")
    min_chars: int = Field(0, ge=0, description="Answers with fewer characters: rejected.")
    max_chars: int | None = Field(None, gt=0, description="Answers with more characters: rejected; null: no limit.")


class RepetitionSpec(StrictModel):
    """Gopher-style repetition limits (Rae et al. 2021, table A1)."""

    step: Literal["repetition"] = Field(description="repetition: reject texts with repeated lines or n-grams (Gopher).")
    max_duplicate_line_fraction: float = Field(0.30, ge=0.0, le=1.0, description="Largest share of lines that repeat an earlier line.")
    max_duplicate_line_char_fraction: float = Field(0.20, ge=0.0, le=1.0, description="Largest share of characters in repeated lines.")
    max_top_ngram_char_fraction: dict[int, float] = Field(
        default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16},
        description="Per n, largest share of word characters the most frequent n-gram may cover.",
    )
    max_duplicate_ngram_char_fraction: dict[int, float] = Field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
        description="Per n, largest share of word characters inside n-grams that occur more than once.",
    )
    min_words: int = Field(20, ge=0, description="Shorter texts are not judged (their ratios are noise).")


class KnowledgeDensitySpec(StrictModel):
    """MMed-IFT's knowledge density: distinct medical keywords and the share of characters they cover."""

    step: Literal["knowledge_density"] = Field(description="knowledge_density: reject texts with too few medical keywords.")
    min_keywords: int = Field(2, ge=0, description="Distinct keywords at least.")
    min_coverage: float = Field(0.0, ge=0.0, le=1.0, description="Share of non-space characters in keywords.")
    keywords: dict[str, str] = Field(
        default_factory=dict, description="Per language, a keyword file (one term a line) replacing the shipped one."
    )


PIIType = Literal["email", "url", "phone", "national_id", "postal_code", "card", "name"]


class PIISpec(StrictModel):
    step: Literal["pii"] = Field(description="pii: replace personal data with typed placeholders.")
    types: list[PIIType] = Field(
        default_factory=lambda: ["email", "url", "phone", "national_id", "postal_code", "card", "name"],
        description="What to replace with typed placeholders ([EMAIL], [PHONE], …).",
    )


class DecontaminateSpec(StrictModel):
    step: Literal["decontaminate"] = Field(description="decontaminate: drop records sharing n-grams with evaluation questions.")
    ngram: int = Field(13, gt=0, description="Words per n-gram shared with an evaluation item (zh, ja: "
                       "characters, ko: words; scaled by medadapt/text/data/languages.yaml per_english.ngram).")
    min_words: int = Field(8, gt=0, description="Shorter evaluation questions must appear whole (scaled as ngram).")
    use_recipe_benchmarks: bool = Field(True, description="Also check the recipe's evaluate.benchmarks.")
    extra: list[str] = Field(default_factory=list, description="More JSONL files with a `question` field.")


StepSpec = Annotated[
    Union[
        NormalizeSpec, LanguageSpec, ExactDedupSpec, NearDedupSpec, LengthSpec, AnswerLengthSpec,
        RepetitionSpec, KnowledgeDensitySpec, PIISpec, DecontaminateSpec,
    ],
    Field(discriminator="step"),
]


class SplitSpec(StrictModel):
    """By source (test sites unseen in training, as Gaokerena did) or at random by a hash of the id."""

    by: Literal["random", "source"] = Field("random", description="random: by a hash of the id and the fractions; source: by the source lists.")
    test_fraction: float = Field(0.0, ge=0.0, lt=1.0, description="by: random: share of records for curate/<kind>/test.jsonl.")
    dev_fraction: float = Field(0.0, ge=0.0, lt=1.0, description="by: random: share of records for curate/<kind>/dev.jsonl.")
    test_sources: list[str] = Field(default_factory=list, description="by: source: sources whose records go to test.")
    dev_sources: list[str] = Field(default_factory=list, description="by: source: sources whose records go to dev.")
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


class RayExecutorSpec(StrictModel):
    """datatrove's Ray executor: each task is a Ray actor on the cluster (``pip install medadapt[ray]``)."""

    address: str | None = Field(None, description="The cluster, as ray.init takes it: host:port of a running head "
                                "node (`ray start --head`); `local`: a private one started on this machine for the "
                                "step and stopped after it; null: $RAY_ADDRESS, else the cluster last started on "
                                "this machine, else a private one.")
    cpus_per_task: int = Field(1, ge=1, description="CPUs Ray reserves for each task.")
    mem_per_cpu_gb: float = Field(2, gt=0, description="Memory (GB) Ray reserves per CPU of a task.")


class SlurmExecutorSpec(StrictModel):
    """datatrove's Slurm executor: one sbatch job array, a task per array element; curate waits for it. The
    run folder must be on a file system the compute nodes share, with the same Python environment."""

    partition: str = Field(description="Slurm partition (#SBATCH --partition).")
    time: str = Field("01:00:00", description="Time limit of each task (#SBATCH --time).")
    cpus_per_task: int = Field(1, ge=1, description="#SBATCH --cpus-per-task.")
    mem_per_cpu_gb: int = Field(2, ge=1, description="#SBATCH --mem-per-cpu, in GB.")
    qos: str | None = Field(None, description="#SBATCH --qos (none: the partition's default).")
    job_name: str = Field("medadapt-curate", description="#SBATCH --job-name; each step's job adds the step name.")
    env_command: str | None = Field(None, description="Shell line a job runs first to get medadapt (default: "
                                    "activate this Python's virtual environment, when it is one).")
    sbatch_args: dict[str, str] = Field(default_factory=dict, description="More #SBATCH options, e.g. {account: "
                                        "proj42, constraint: cpu}.")
    poll_s: float = Field(10, gt=0, description="Seconds between checks whether the job array has finished.")


class EngineSpec(StrictModel):
    """Where the per-document steps run. Deduplication always runs in the main process (it needs every
    document); datatrove shards the rest over ``tasks`` (optional extra: ``pip install medadapt[scale]``)."""

    kind: Literal["inprocess", "datatrove"] = Field("inprocess", description="inprocess: one process; datatrove: sharded over `tasks`.")
    executor: Literal["local", "ray", "slurm"] = Field(
        "local", description="datatrove executor: local (a process pool on this machine), ray (a Ray cluster; "
        "options under `ray`) or slurm (sbatch job arrays; options under `slurm`).")
    tasks: int = Field(4, ge=1, description="Shards; a restarted run skips shards already completed.")
    workers: int = Field(-1, description="Tasks running at once (-1: all of them).")
    ray: RayExecutorSpec = Field(default_factory=RayExecutorSpec, description="executor: ray — the cluster and what each task reserves.")
    slurm: SlurmExecutorSpec | None = Field(None, description="executor: slurm — the sbatch settings (required for slurm).")

    @model_validator(mode="after")
    def _executor_settings(self) -> EngineSpec:
        if self.executor != "local" and self.kind != "datatrove":
            raise ValueError(f"executor: {self.executor} is one of datatrove's executors: set kind: datatrove")
        if self.executor == "slurm" and self.slurm is None:
            raise ValueError("executor: slurm needs a `slurm:` section with at least `partition`")
        return self


class CurateSection(LossLimits):
    """Curate crawled records: a pipeline of steps, each counting what it removed and why. An input file that
    loses more than ``max_rejected_fraction`` of its rows to unreadable rows, or a language step that removes
    more than that share, fails the stage, as does keeping no record; the quality filters do not count."""

    inputs: list[CurateInput] = Field(min_length=1, description="The record files to curate (at least one).")
    preset: str | None = Field(None, description="A shipped step list (e.g. gaokerena_qa) used when `steps` is absent; "
                               "with `steps`, they must be its steps (as a run's saved recipe.yaml lists them).")
    steps: list[StepSpec] = Field(default_factory=list, description="The steps, in order; each item's `step` names its kind.")
    split: SplitSpec = Field(default_factory=SplitSpec, description="How kept records are split into train, dev and test.")
    engine: EngineSpec = Field(default_factory=EngineSpec, description="Where the per-document steps run.")
    examples_per_reason: int = Field(5, ge=0, description="Random rejected examples per reason in the report.")

    @model_validator(mode="before")
    @classmethod
    def _preset_steps(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") is not None and not data.get("steps"):
            data = {**data, "steps": load_preset(str(data["preset"]))}
        return data

    @model_validator(mode="after")
    def _steps_are_the_presets(self) -> CurateSection:
        """A preset with steps is the form a run saves (the name and the steps that ran, so recipe.yaml stays
        an honest record that re-validates); steps that differ from the preset's are ambiguous."""
        if self.preset is not None and self.steps != _STEPS.validate_python(load_preset(self.preset)):
            raise ValueError(f"give either `preset` or `steps`, not both (these steps differ from preset "
                             f"{self.preset}'s)")
        return self

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


_STEPS: TypeAdapter[list[StepSpec]] = TypeAdapter(list[StepSpec])


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def load_preset(name: str) -> list[dict[str, Any]]:
    """The step list of a shipped preset."""
    path = PRESETS / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown preset {name!r} (shipped: {', '.join(preset_names())})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))["steps"]
