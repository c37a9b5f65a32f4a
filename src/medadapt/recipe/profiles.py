"""Recipe profiles: one recipe, several sizes (the paper's ``full`` run on a GPU, a ``smoke`` run on a CPU).

A recipe's body is what runs by default. ``profiles.<name>`` is a partial recipe laid over the body when that
profile is chosen (``--profile NAME``, or the recipe's own ``profile:`` key): mappings merge key by key, any
other value (a list, a number, a string) replaces the body's, and ``null`` removes a section, so a smoke
profile can drop a stage the CPU cannot afford. A profile that does not set ``name`` runs as
``<name>-<profile>``, so the two sizes never share a run directory.

The applied recipe keeps ``profile: <name>`` and no ``profiles``: the run's saved ``recipe.yaml`` reloads as
exactly what ran, and a stage's fingerprint never depends on a profile that did not run.
"""

from __future__ import annotations

from typing import Any


def overlay(body: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``body`` with ``patch`` laid over it: mappings merged recursively, everything else replaced."""
    merged = dict(body)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_profile(raw: dict[str, Any], chosen: str | None) -> tuple[dict[str, Any], list[str]]:
    """The raw recipe with the chosen profile (``chosen``, else its own ``profile:``) applied, and problems.

    A saved run recipe (``profile`` set, ``profiles`` gone) is already applied and comes back unchanged.
    """
    profiles = raw.get("profiles")
    name = chosen or raw.get("profile")
    if not profiles:
        if chosen and raw.get("profile") not in (None, chosen):
            return raw, [f"profile: this recipe was made with profile {raw['profile']!r}, not {chosen!r}"]
        if chosen and raw.get("profile") is None:
            return raw, [f"profile: the recipe defines no profiles (--profile {chosen})"]
        return raw, []
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) or p is None for p in profiles.values()):
        return raw, ["profiles: expected a mapping of profile names to partial recipes"]
    base = {key: value for key, value in raw.items() if key not in ("profiles", "profile")}
    if name is None:
        return base, []
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        return raw, [f"profile: no profile {name!r} in this recipe (it defines: {known})"]
    patch = profiles[name] or {}
    applied = overlay(base, patch)
    if "name" not in patch and isinstance(base.get("name"), str):
        applied["name"] = f"{base['name']}-{name}"
    applied["profile"] = name
    return applied, []
