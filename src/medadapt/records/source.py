"""A recipe's reference to one user file and how to read it: the one source model every stage that reads
user files shares (``data.sources``, ``curate.inputs``), so that each accepts the same formats (CSV, XLSX,
JSON, JSONL, Parquet through a mapping) and reads them through the one importer."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from medadapt.records.importers import ImportResult, import_file
from medadapt.records.mapping import is_kind, load_mapping, shipped_mappings
from medadapt.records.quarantine import FirstIds
from medadapt.records.select import seen_values, select
from medadapt.errors import DataError
from medadapt.strict import StrictModel


class RecordFile(StrictModel):
    """One input file: canonical records, or any supported file read through a mapping."""

    path: str = Field(description="A path relative to the recipe, medadapt://… or run://<stage>/….")
    format: str = Field("qa", description="A record kind (qa, article, mcqa, chat, text, ner) or a shipped "
                                          "mapping (alpaca, sharegpt, openai, gaokerena-mf3qa, … see "
                                          "`medadapt data formats`).")
    mapping: str | None = Field(None, description="A mapping YAML file of your own (overrides `format`).")
    source: str | None = Field(None, description="Override the records' `source` (for mixing and licences).")
    lang: str | None = Field(None, description="Override the records' language.")
    where: dict[str, str | list[str]] | None = Field(
        None, description="Use only records whose fields have these values, e.g. `{meta.Source: پزشکی اسفند 402}` "
                          "(a field, or `meta.<column>` for a column the mapping keeps; compared with Arabic/Persian "
                          "letter variants folded). Others are left out and counted, not quarantined.")
    fraction: float | None = Field(
        None, gt=0, le=1, description="Use this seeded share of the file's records (chosen by record id and the "
                                      "recipe's seed, not by position), e.g. 0.6 for 60 % of a corpus.")

    @property
    def reader(self) -> str:
        return self.mapping or self.format

    def shipped_kind(self) -> str | None:
        """The record kind the reader gives, when known without the recipe's folder (a kind or a shipped
        mapping; a user's mapping file is read with the data)."""
        if is_kind(self.reader):
            return self.reader
        return load_mapping(self.reader).kind if self.reader in shipped_mappings() else None

    def mapping_file(self) -> str | None:
        """The user's own mapping file, which a stage reads (and fingerprints) beside the data."""
        return self.mapping if self.mapping and self.mapping not in shipped_mappings() else None

    def read(self, path: Path, *, base_dir: Path | None, stage: str, ids: FirstIds | None = None,
             seed: int = 0) -> ImportResult:
        """``path`` (this source's resolved path) through the one importer, with the recipe's overrides, then
        ``where`` and ``fraction`` (``seed``: the recipe's)."""
        result = import_file(path, self.reader, lang=self.lang, source=self.source, base_dir=base_dir, stage=stage,
                             ids=ids)
        if self.where or self.fraction is not None:
            chosen = select(result.records, self.where, self.fraction, seed)
            if result.records and not chosen.records and self.where:
                found = seen_values(result.records, self.where)
                raise DataError(f"matched none of its {len(result.records)} records ({found})", file=self.path,
                                field="where")
            result.records, result.left_out = chosen.records, chosen.left_out
        return result
