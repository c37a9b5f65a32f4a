"""Records: the canonical record kinds, reading any supported file into them (tables, mappings, importers)
with bad rows quarantined, and writing them (JSONL, Parquet, JSON). Every stage and command reads and
writes records through this package; it imports no stage."""
