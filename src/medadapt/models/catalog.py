"""The alias catalogue: which names are embedded models (data: ``aliases.yaml``), where each one's GGUF
file is installed, and the cache home that converted models live under.

Apart from :mod:`medadapt.models.registry` (which resolves any reference) so that the GGUF conversion in
:mod:`medadapt.models.embedded` can use it without importing the resolver that calls the conversion.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from medadapt.errors import ModelError

ALIASES_FILE = Path(__file__).with_name("aliases.yaml")


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
