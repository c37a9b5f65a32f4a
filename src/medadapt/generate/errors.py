"""Failures of the generate stage's own inputs and outcome (prompt files, review decisions, failed items).
Request failures, budgets and malformed answers are the inference layer's (medadapt.llm.errors)."""

from __future__ import annotations

from medadapt.errors import MedadaptError


class GenerateError(MedadaptError):
    """A generation run that cannot go on (a broken prompt or review file, items that failed after retries)."""
