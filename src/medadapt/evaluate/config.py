"""The recipe's ``evaluate:`` section: each kind's block (multiple choice, free-form, perplexity) and what they
share, the models' translate-pipeline baselines, all scored into the same tables."""

from __future__ import annotations

from pydantic import Field, model_validator

from medadapt.evaluate.freeform.config import FreeformConfig
from medadapt.evaluate.mcqa.config import BenchmarkRef, DecontaminationConfig, LmEvalImport
from medadapt.evaluate.perplexity.config import PerplexityConfig
from medadapt.llm.config import BackendConfig
from medadapt.strict import StrictModel


class PipelineConfig(StrictModel):
    """``evaluate.pipelines[]``: a pivot-language model behind a translator, scored like any other model."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Column label: pipeline:<name>.")
    model: str = Field(description="The pivot-language model (alias, local directory or hub id).")
    pivot_lang: str = Field("en", description="The language the model is asked in.")
    translator: BackendConfig = Field(description="Who translates: any generate backend (openai or local).")
    prompt_lang: str = Field("en", description="Language of the translation prompt (llm/task_prompts/<lang>.yaml).")
    prompts: str | None = Field(None, description="A folder of <lang>.yaml prompt files overriding the shipped ones.")
    max_new_tokens: int = Field(512, gt=0, description="Longest translation the translator may write, in tokens.")


class OtherModel(StrictModel):
    """``evaluate.models[]``: another model scored beside base and trained, as a paper's table compares models."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Column label (not base, trained or pipeline:…).")
    model: str = Field(description="An alias, a local directory or a hub id.")
    adapter: str | None = Field(None, description="A PEFT adapter folder to load on it: a recipe-relative path, or "
                                "run://train/stage1/adapter for this run's stage-1 model (its LoRA on the base).")

    @model_validator(mode="after")
    def _label_is_free(self):
        if self.name in ("base", "trained") or self.name.startswith("pipeline"):
            raise ValueError(f"name {self.name!r} is taken by the stage's own columns")
        return self


class EvaluateSection(StrictModel):
    benchmarks: list[BenchmarkRef] = Field(default_factory=list, description="The multiple-choice benchmarks to score "
                                           "(at least one kind: benchmarks, perplexity or freeform).")
    batch_size: int = Field(8, gt=0, description="Questions per forward pass.")
    compare_base: bool = Field(True, description="Also score the base model, for a before/after table.")
    decontamination: DecontaminationConfig = Field(default_factory=DecontaminationConfig,
                                                   description="Look for each question in the training data first.")
    models: list[OtherModel] = Field(
        default_factory=list, description="Other models scored in the same tables (e.g. other base models of the "
                                          "same size), each in its own column.")
    pipelines: list[PipelineConfig] = Field(
        default_factory=list, description="Translate-pipeline baselines (source → pivot language → a model).")
    lm_eval_results: list[LmEvalImport] = Field(default_factory=list, description="lm-evaluation-harness results to show beside medadapt's own.")
    freeform: FreeformConfig | None = Field(
        None, description="Held-out questions answered in free text (timed), judged pairwise and/or against K-QA "
        "statements.")
    perplexity: PerplexityConfig | None = Field(
        None, description="Held-out text and Q&A scored as bits per byte, byte and word perplexity (lm-eval's rolling "
        "log-likelihood; answers given their question in the chat template), base vs trained with paired intervals.")

    @model_validator(mode="after")
    def _names_are_unique_and_known(self):
        if not (self.benchmarks or self.perplexity or self.freeform):
            raise ValueError("nothing to evaluate: give benchmarks, perplexity or freeform")
        names = [b.name for b in self.benchmarks]
        for kind, listed in (("benchmark", names), ("pipeline", [p.name for p in self.pipelines]),
                             ("model", [m.name for m in self.models])):
            if len(set(listed)) != len(listed):
                raise ValueError(f"{kind} names must be unique")
        for i, imported in enumerate(self.lm_eval_results):
            if imported.benchmark and imported.benchmark not in names:
                raise ValueError(f"lm_eval_results[{i}].benchmark: no benchmark named {imported.benchmark!r}")
        return self
