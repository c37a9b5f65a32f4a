"""The one strict pydantic base: recipe sections, mappings, site adapters and messages refuse unknown keys,
so a misspelt option is an error naming it instead of a setting silently ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A model that rejects fields it does not declare."""

    model_config = ConfigDict(extra="forbid")
