"""The multiple-choice part of the recipe's ``evaluate:`` section: benchmarks, the decontamination check and
imported lm-eval results. Kept apart from the code that runs them so the recipe schema loads no model code."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medadapt.strict import StrictModel


class BenchmarkRef(StrictModel):
    """A multiple-choice benchmark: JSONL of mcqa records (question, choices, 0-based answer, subject)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="The benchmark's label in tables and file names.")
    path: str = Field(description="The questions file: a recipe-relative path, medadapt://… or run://<stage>/….")
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
    limit: int | None = Field(None, gt=0, description="Only the first N questions (after few-shot examples are taken).")
    chat_template: bool = Field(
        False, description="letters/cloze: render each prompt with the model's chat template (lm-eval's "
        "--apply_chat_template: description as system message, examples and question as one user turn).")
    where: dict[str, str | list[str]] | None = Field(
        None, description="Score only questions whose fields have these values, e.g. one exam sitting: "
                          "`{meta.Source: پزشکی اسفند 402}` (a field, or `meta.<column>` for a column the mapping "
                          "keeps; Arabic/Persian letter variants folded).")
    lang: str | None = Field(None, min_length=2, max_length=3, description="The language of every question, for a "
                             "layout several languages share (MMedBench, HEAD-QA's English copy); default: the "
                             "file's or the mapping's.")
    prompt: str | None = Field(
        None, description="The prompt every question is asked with: an entry of evaluate/mcqa/prompts.yaml (or of "
        "prompt_file), e.g. headqa for HEAD-QA's lm-eval layout; default: the entry of each question's language "
        "(zh is C-Eval's layout, ko KorMedMCQA's).")
    prompt_file: str | None = Field(
        None, description="A YAML file shaped like evaluate/mcqa/prompts.yaml (name → description, question, "
        "option, answer_cue, instruction; optional multi_description, multi_instruction) whose entries add to or "
        "replace the shipped ones by name: a new language, or the shipped en entry reworded. Part of the "
        "stage's inputs, so changing it re-runs the evaluation.")


class DecontaminationConfig(StrictModel):
    """Before scoring, look for each question in the training data (curate's n-gram matching)."""

    action: Literal["report", "exclude", "off"] = Field(
        "report", description="report: count and list contaminated questions; exclude: also leave them out of "
        "scoring; off: no check.")
    training_data: list[str] | None = Field(
        None, description="JSONL files the model was trained on; default: the train section's inputs.")
    ngram: int = Field(13, gt=1, description="Shared word n-gram length that counts as contamination.")
    min_words: int = Field(8, gt=0, description="Shorter questions must appear whole; shorter still: not judged.")


class LmEvalImport(StrictModel):
    """A task from an lm-evaluation-harness results file, shown like medadapt's own results."""

    file: str = Field(description="lm-eval's results_<date>.json (its samples_<task>_<date>.jsonl beside it is "
                      "used when present).")
    task: str = Field(description="The lm-eval task name in that file.")
    metric: Literal["acc", "acc_norm"] = Field("acc", description="Which of the task's accuracies to show.")
    label: str = Field("lm-eval", description="Column label in the tables.")
    benchmark: str | None = Field(
        None, description="Show it as a column of this benchmark's table (same questions); default: its own table.")
