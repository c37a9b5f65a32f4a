"""Curate: normalise, identify language, deduplicate, filter, redact PII, decontaminate and split crawled data.

Kept light on purpose: the recipe schema imports :mod:`medadapt.curate.config`, so this package must not
import the runner or any heavy library at import time.
"""
