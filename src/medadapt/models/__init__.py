"""Model references: embedded aliases (GGUF shipped in PyPI packages), local directories, hub ids."""

from medadapt.models.catalog import aliases
from medadapt.models.registry import resolve_model

__all__ = ["aliases", "resolve_model"]
