"""A "did you mean" for a mistyped recipe key, from the schema's own field names at the key's place."""

from __future__ import annotations

import difflib

from pydantic import BaseModel

from medadapt.recipe.reference import models_in, variant_tag
from medadapt.recipe.schema import Recipe


def did_you_mean(loc: tuple) -> str | None:
    """The closest key to a mistyped one at ``loc`` (``('train', 'stage2', 'learning_rat')``), among the keys
    the schema allows at that place; None when nothing is close."""
    models: list[type[BaseModel]] = [Recipe]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # a list index: the same models
        tagged = [m for m in models if (tag := variant_tag(m)) and tag.split("=", 1)[1] == part]
        if len(models) > 1 and tagged:  # pydantic names a discriminated union's member by its tag
            models = tagged
            continue
        field = next((m.model_fields[part] for m in models if part in m.model_fields), None)
        if field is None:
            return None
        models = [model for _, model in models_in(field.annotation)]
        if not models:
            return None
    names = sorted({name for model in models for name in model.model_fields})
    matches = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    return matches[0] if matches else None
