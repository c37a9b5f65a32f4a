"""Data: canonical records, JSONL with quarantine, Q&A → chat formatting, the format stage."""
