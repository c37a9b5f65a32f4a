"""Failures of the generate stage. Each is one line naming the endpoint, file, row or field concerned."""

from __future__ import annotations

from medadapt.errors import MedadaptError


class GenerateError(MedadaptError):
    """A generation run that cannot go on (a missing API key, a backend that cannot be reached at all…)."""


class RequestFailed(GenerateError):
    """One request that still failed after every retry; its item is recorded and retried on the next run."""


class BudgetReached(GenerateError):
    """``--max-requests`` or ``--max-cost`` is spent: no new request is sent; what was answered is stored."""


class MalformedResponse(Exception):
    """A model answer that does not follow the task's output format (the item goes to quarantine)."""

    def __init__(self, reason: str, raw: str):
        self.reason = reason
        self.raw = raw
        super().__init__(reason)
