"""What the report's evaluation section shows, left in ``evaluate/`` when the stage ends: ``report.json``
(the multiple-choice tables and the free-form figures) and their plots, made from what each kind wrote."""

from __future__ import annotations

from pathlib import Path

from medadapt.evaluate.freeform.report import freeform_figures
from medadapt.evaluate.mcqa.report import benchmark_tables
from medadapt.records.jsonl import write_json


def write_report(out: Path) -> None:
    write_json(out / "report.json", {"benchmarks": benchmark_tables(out), "freeform": freeform_figures(out)})
