"""Free-form evaluation: held-out questions answered in free text (timed), a pairwise LLM judge and K-QA's
statement checks, run by the evaluate stage and by ``medadapt eval answer | judge | kqa``."""
