"""Gather what each stage left in the run directory into one plain dict for the report templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.runs.stage import RunDir


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def collect(run: RunDir, section_templates: set[str]) -> dict[str, Any]:
    """Context for the templates: the manifest, and for every stage that is done what it left in its folder,
    read the same way for each: ``stats[stage]`` (its ``stats.json``), ``report[stage]`` (its ``report.json``,
    the tables its section renders) and ``plots[stage]`` (the names of its PNGs); None where a file is absent.
    ``by_language[stage]`` is the ``by_language`` table either file holds (``{lang: {column: value}}``, the
    same columns in every row), which the report shows after the stage's section; None where neither has one.

    ``sections`` lists, in run order, the stages that have a report template; a stage joins the report by
    leaving those files in its folder and shipping ``templates/sections/<stage>.*.j2``.
    """
    manifest = _json(run.manifest_path) or {}
    # the report describes the stages before it; its own record is still "running" while it renders
    manifest.get("stages", {}).pop("report", None)
    context: dict[str, Any] = {"name": manifest.get("name", run.root.name), "manifest": manifest}
    stages = [name for name, record in manifest.get("stages", {}).items() if record.get("status") == "done"]
    context["sections"] = [name for name in stages if name in section_templates]
    context["stats"] = {name: _json(run.stage_dir(name) / "stats.json") for name in stages}
    context["report"] = {name: _json(run.stage_dir(name) / "report.json") for name in stages}
    context["plots"] = {name: sorted(p.name for p in run.stage_dir(name).glob("*.png")) for name in stages}
    context["by_language"] = {name: next((left["by_language"] for left in (context["stats"][name],
                                          context["report"][name]) if isinstance(left, dict) and left.get("by_language")), None)
                              for name in stages}
    return context
