"""Resolve a model reference (alias, local directory or hub id) to something ``from_pretrained`` loads.

Aliases are data (``aliases.yaml``). An embedded alias is converted once from its GGUF file into a cached
Hugging Face directory, so every later load is the ordinary ``from_pretrained(dir)`` path users run on a GPU.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from medadapt.errors import ModelError

ALIASES_FILE = Path(__file__).with_name("aliases.yaml")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class Alias:
    name: str
    description: str
    install: str
    licence: str
    distribution: str | None = None
    file: str | None = None
    assemble_module: str | None = None


@lru_cache(maxsize=1)
def aliases() -> dict[str, Alias]:
    """Every accepted name (canonical names and their `also` synonyms) → its alias."""
    raw = yaml.safe_load(ALIASES_FILE.read_text(encoding="utf-8"))
    table = {}
    for name, spec in raw.items():
        alias = Alias(name=name, description=spec["description"], install=spec["install"], licence=spec["licence"],
                      **spec["gguf"])
        for accepted in [name, *spec.get("also", [])]:
            table[accepted] = alias
    return table


def medadapt_home() -> Path:
    return Path(os.environ.get("MEDADAPT_HOME", Path.home() / ".cache" / "medadapt")).expanduser()


def find_gguf(alias: Alias) -> Path:
    """Locate the alias's GGUF file inside its installed package, or say how to install it."""
    missing = ModelError(f"the embedded model is not installed; run: {alias.install}", field=f"model {alias.name}")
    if alias.distribution:
        try:
            dist = importlib.metadata.distribution(alias.distribution)
        except importlib.metadata.PackageNotFoundError:
            raise missing from None
        for entry in dist.files or []:
            if entry.name == alias.file:
                path = Path(str(dist.locate_file(entry)))
                if path.is_file():
                    return path
        raise missing
    try:
        module = importlib.import_module(alias.assemble_module)
    except ImportError:
        raise missing from None
    target = medadapt_home() / "gguf" / module.MODEL_NAME
    return Path(module.assemble(target))


def is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def resolve_model(reference: str) -> str:
    """Return a local directory (or, for a hub id, the id itself) for ``from_pretrained``.

    Order: alias → existing local directory → hub id. A path-like reference that does not exist is an error
    rather than a hub lookup, since hubs are often unreachable (air-gapped hospitals).
    """
    table = aliases()
    if reference in table:
        from medadapt.models.embedded import ensure_converted

        return str(ensure_converted(table[reference]))
    path = Path(reference).expanduser()
    if path.is_dir():
        if not is_model_dir(path):
            raise ModelError("directory has no config.json; not a Hugging Face model", field=f"model {reference}")
        return str(path.resolve())
    if not HUB_ID.match(reference):
        known = ", ".join(sorted(table))
        raise ModelError(f"not a known alias ({known}) nor an existing model directory", field=f"model {reference}")
    return reference
