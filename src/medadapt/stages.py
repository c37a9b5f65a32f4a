"""The road, in order: which stage runs for which recipe section."""

from __future__ import annotations

from medadapt.crawl.stage import CrawlStage
from medadapt.curate.stage import CurateStage
from medadapt.format.stage import FormatStage
from medadapt.evaluate.stage import EvaluateStage
from medadapt.generate.stage import GenerateStage
from medadapt.recipe import Recipe
from medadapt.report.stage import ReportStage
from medadapt.runs.stage import Stage
from medadapt.train.stage import TrainStage

ROAD: list[tuple[str, type[Stage]]] = [
    ("crawl", CrawlStage),
    ("curate", CurateStage),
    ("generate", GenerateStage),  # before data: the data stage reads run://generate/<task>.jsonl
    ("data", FormatStage),
    ("train", TrainStage),
    ("evaluate", EvaluateStage),
    ("report", ReportStage),
]


def stages_for(recipe: Recipe) -> list[Stage]:
    """Instances of the stages whose recipe section is present, in road order."""
    return [cls() for section, cls in ROAD if getattr(recipe, section) is not None]
