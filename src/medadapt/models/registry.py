"""Resolve a model reference (alias, local directory or hub id) to something ``from_pretrained`` loads.

Aliases are data (``aliases.yaml``). An embedded alias is converted once from its GGUF file into a cached
Hugging Face directory, so every later load is the ordinary ``from_pretrained(dir)`` path users run on a GPU.
"""

from __future__ import annotations

import re
from pathlib import Path

from medadapt.errors import ModelError
from medadapt.models.catalog import aliases, is_model_dir
from medadapt.models.embedded import ensure_converted

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model(reference: str) -> str:
    """Return a local directory (or, for a hub id, the id itself) for ``from_pretrained``.

    Order: alias → existing local directory → hub id. A path-like reference that does not exist is an error
    rather than a hub lookup, since hubs are often unreachable (air-gapped hospitals).
    """
    table = aliases()
    if reference in table:
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
