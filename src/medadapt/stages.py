"""The road, in order: which stage runs for which recipe section."""

from __future__ import annotations

from medadapt.data.stage import FormatStage
from medadapt.evaluate.stage import EvaluateStage
from medadapt.recipe import Recipe
from medadapt.report.stage import ReportStage
from medadapt.runs.stage import Stage
from medadapt.train.sft import SFTStage

ROAD: list[tuple[str, type[Stage]]] = [
    ("data", FormatStage),
    ("train", SFTStage),
    ("evaluate", EvaluateStage),
    ("report", ReportStage),
]


def stages_for(recipe: Recipe) -> list[Stage]:
    """Instances of the stages whose recipe section is present, in road order."""
    return [cls() for section, cls in ROAD if getattr(recipe, section) is not None]
