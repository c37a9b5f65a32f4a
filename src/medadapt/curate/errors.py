"""The curate stage's own errors."""

from __future__ import annotations

from medadapt.errors import MedadaptError


class EngineError(MedadaptError):
    """An executor that cannot be used here, or datatrove tasks that did not finish."""
