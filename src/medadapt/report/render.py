"""Write ``report/index.html`` and ``report/report.md`` from the collected context, with the PNG plots the
stages drew copied beside them (the report draws none itself)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


def section_templates() -> set[str]:
    """Stages that ship a report section (``templates/sections/<stage>.html.j2``)."""
    return {p.name.removesuffix(".html.j2") for p in (TEMPLATES / "sections").glob("*.html.j2")}


def render_report(context: dict[str, Any], out: Path, stage_dirs: dict[str, Path] | None = None) -> list[Path]:
    """Copy the stages' plots and render both documents into ``out``; return the files written.

    PNG plots a stage left in its own folder are copied beside the report as ``<stage>-<name>.png``.
    """
    written = []
    for stage, names in context.get("plots", {}).items():
        for name in names:
            target = out / f"{stage}-{name}"
            shutil.copyfile((stage_dirs or {})[stage] / name, target)
            written.append(target)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    for template, filename in (("index.html.j2", "index.html"), ("report.md.j2", "report.md")):
        (out / filename).write_text(env.get_template(template).render(**context), encoding="utf-8")
        written.append(out / filename)
    return written
