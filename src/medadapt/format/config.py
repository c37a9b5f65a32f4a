"""The recipe's ``data:`` section: which files to read (in which format), how to mix them, how long a
training example may be."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medadapt.records.losses import LossLimits
from medadapt.records.source import RecordFile
from medadapt.strict import StrictModel


class DataSource(RecordFile):
    """One input file (see RecordFile), optionally capped."""

    cap: int | None = Field(None, gt=0, description="At most this many records from this source (seeded sample).")
    stage: Literal[1, 2] = Field(
        2, description="The training stage this source's chats feed: 2 (stage2_chat.jsonl) or 1 (stage1_chat.jsonl, "
                       "the input of a stage 1 with objective sft: MMed-IFT instruction-tunes on Q&A before its "
                       "exam-question stage). Articles and text always feed stage 1 as text.")


class MixSection(StrictModel):
    """Ratios between languages and/or sources, e.g. ``by_lang: {fa: 1, en: 2}``."""

    by_lang: dict[str, float] = Field(default_factory=dict, description="Weight per language, e.g. {fa: 1, en: 2}.")
    by_source: dict[str, float] = Field(default_factory=dict,
                                        description="Applied first; by_lang then scales each language as a whole.")
    total: int | None = Field(None, gt=0, description="Records in the mixture; default: as many as the ratio allows.")
    upsample: bool = Field(False, description="Meet the ratio by repeating records of smaller groups instead of "
                                              "down-sampling larger ones.")

    @model_validator(mode="after")
    def _weights(self) -> MixSection:
        for name, weights in (("by_lang", self.by_lang), ("by_source", self.by_source)):
            if any(w < 0 for w in weights.values()) or (weights and not any(w > 0 for w in weights.values())):
                raise ValueError(f"{name}: weights must be ≥ 0 with at least one > 0")
        return self


class DataSection(LossLimits):
    """Format: read sources, turn Q&A/MCQA/NER into chats (stage 2) and articles into text (stage 1), mix.
    A source that keeps no record, or loses more than ``max_rejected_fraction`` of its rows to unreadable rows
    or to languages the recipe does not train, fails the stage."""

    qa: list[DataSource] = Field(default_factory=list, description="Q&A record files (JSONL); same as "
                                                                    "sources with format qa.")
    sources: list[DataSource] = Field(default_factory=list, description="The input files, each with its `format` (record kind or shipped mapping) or `mapping`.")
    system_prompt: dict[str, str] = Field(
        default_factory=dict, description="System prompt per language; none when the language is absent."
    )
    max_examples: int | None = Field(None, gt=0, description="Keep at most this many chats (a seeded shuffle first), before the dev split.")
    dev_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="Share of chats held out for the dev split.")
    cap_per_source: int | None = Field(None, gt=0, description="Default cap for every source (CollectiveSFT: 1000).")
    mix: MixSection | None = Field(None, description="Ratios between languages and/or sources; null: every record as read.")
    cutoff_len: int | None = Field(None, gt=8, description="Longest training chat in tokens of the recipe's model.")
    truncation: Literal["drop", "truncate_last", "split"] = Field(
        "drop", description="A chat longer than cutoff_len: drop it, cut its last answer, or split it into shorter chats.")
    text_chunk_chars: int = Field(2000, gt=100, description="Stage-1 text chunk size, in characters.")

    @model_validator(mode="after")
    def _has_sources(self) -> DataSection:
        if not self.qa and not self.sources:
            raise ValueError("give at least one file under `sources` (or `qa`)")
        return self

    def all_sources(self) -> list[tuple[str, DataSource]]:
        """Every source with its place in the recipe (``qa.0``, ``sources.2``…), for messages."""
        return [(f"qa.{i}", s) for i, s in enumerate(self.qa)] + [(f"sources.{i}", s) for i, s in enumerate(self.sources)]
