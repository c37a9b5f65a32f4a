"""What the report's evaluation section shows, left in ``evaluate/`` when the stage ends: ``report.json``
(the multiple-choice tables, the free-form figures and the perplexity tables) and their plots, made from what
each kind wrote."""

from __future__ import annotations

from pathlib import Path

from medadapt.evaluate.freeform.report import freeform_figures
from medadapt.evaluate.mcqa.report import benchmark_tables, language_table
from medadapt.evaluate.perplexity.report import perplexity_tables
from medadapt.records.jsonl import write_json


def write_report(out: Path) -> None:
    write_json(out / "report.json", {"benchmarks": benchmark_tables(out), "freeform": freeform_figures(out),
                                     "by_language": language_table(out), "perplexity": perplexity_tables(out)})
