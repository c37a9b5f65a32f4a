"""A recipe's reference to one user file and how to read it: the one source model every stage that reads
user files shares (``data.sources``, ``curate.inputs``), so that each accepts the same formats (CSV, XLSX,
JSON, JSONL, Parquet through a mapping) and reads them through the one importer."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from medadapt.records.importers import ImportResult, import_file
from medadapt.records.mapping import is_kind, load_mapping, shipped_mappings
from medadapt.records.quarantine import FirstIds
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

    def read(self, path: Path, *, base_dir: Path | None, stage: str, ids: FirstIds | None = None) -> ImportResult:
        """``path`` (this source's resolved path) through the one importer, with the recipe's overrides."""
        return import_file(path, self.reader, lang=self.lang, source=self.source, base_dir=base_dir, stage=stage,
                           ids=ids)
