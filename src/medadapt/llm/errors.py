"""Failures of a model request. Each is one line naming the endpoint or field concerned."""

from __future__ import annotations

from medadapt.errors import MedadaptError


class LLMError(MedadaptError):
    """A backend that cannot be used at all (a missing API key, vLLM not installed…) or a run of requests
    that cannot go on."""


class RequestFailed(LLMError):
    """One request that still failed after every retry; its item is recorded and retried on the next run."""


class BudgetReached(LLMError):
    """``--max-requests`` or ``--max-cost`` is spent: no new request is sent; what was answered is stored.

    Exit code 3 tells a script to run the command again to continue."""

    exit_code = 3
    label = "stopped"


class MalformedResponse(Exception):
    """A model answer that does not follow the output format its prompt asked for (the item goes to
    quarantine, or is counted as unreadable)."""

    def __init__(self, reason: str, raw: str):
        self.reason = reason
        self.raw = raw
        super().__init__(reason)
