"""The recipe's ``data:`` section: which files to read (in which format), how to mix them, how long a
training example may be."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(_Section):
    """One input file: canonical records, or any supported file read through a mapping."""

    path: str = Field(description="A path relative to the recipe, medadapt://… or run://<stage>/….")
    format: str = Field("qa", description="A record kind (qa, article, mcqa, chat, text, ner) or a shipped "
                                          "mapping (alpaca, sharegpt, openai, gaokerena-mf3qa, … see "
                                          "`medadapt data formats`).")
    mapping: str | None = Field(None, description="A mapping YAML file of your own (overrides `format`).")
    source: str | None = Field(None, description="Override the records' `source` (for mixing and licences).")
    lang: str | None = Field(None, description="Override the records' language.")
    cap: int | None = Field(None, gt=0, description="At most this many records from this source (seeded sample).")

    @property
    def reader(self) -> str:
        return self.mapping or self.format


class MixSection(_Section):
    """Ratios between languages and/or sources, e.g. ``by_lang: {fa: 1, en: 2}``."""

    by_lang: dict[str, float] = Field(default_factory=dict)
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


class DataSection(_Section):
    """Format: read sources, turn Q&A/MCQA/NER into chats (stage 2) and articles into text (stage 1), mix."""

    qa: list[DataSource] = Field(default_factory=list, description="Q&A record files (JSONL); same as "
                                                                    "sources with format qa.")
    sources: list[DataSource] = Field(default_factory=list)
    system_prompt: dict[str, str] = Field(
        default_factory=dict, description="System prompt per language; none when the language is absent."
    )
    max_examples: int | None = Field(None, gt=0)
    dev_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="Share of chats held out for the dev split.")
    cap_per_source: int | None = Field(None, gt=0, description="Default cap for every source (CollectiveSFT: 1000).")
    mix: MixSection | None = None
    cutoff_len: int | None = Field(None, gt=8, description="Longest training chat in tokens of the recipe's model.")
    truncation: Literal["drop", "truncate_last", "split"] = "drop"
    text_chunk_chars: int = Field(2000, gt=100, description="Stage-1 text chunk size, in characters.")

    @model_validator(mode="after")
    def _has_sources(self) -> DataSection:
        if not self.qa and not self.sources:
            raise ValueError("give at least one file under `sources` (or `qa`)")
        return self

    def all_sources(self) -> list[tuple[str, DataSource]]:
        """Every source with its place in the recipe (``qa.0``, ``sources.2``…), for messages."""
        return [(f"qa.{i}", s) for i, s in enumerate(self.qa)] + [(f"sources.{i}", s) for i, s in enumerate(self.sources)]
