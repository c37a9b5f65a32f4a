"""Cost of a request from its token usage, priced by the shipped table or the recipe's own price."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from medadapt.llm.config import BackendConfig, Price


@cache
def shipped_prices() -> dict[str, Price]:
    text = resources.files("medadapt.llm").joinpath("pricing.yaml").read_text(encoding="utf-8")
    return {name: Price.model_validate(entry) for name, entry in yaml.safe_load(text).items()}


def price_for(backend: BackendConfig, model: str) -> Price | None:
    """The recipe's price, else the table's for this model, else None (unknown: cost is not counted)."""
    if backend.in_process:
        return Price(input_per_mtok=0, output_per_mtok=0)
    return backend.price or shipped_prices().get(model)


def cost(price: Price | None, prompt_tokens: int, completion_tokens: int) -> float:
    if price is None:
        return 0.0
    return (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1e6
