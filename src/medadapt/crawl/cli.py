"""The crawl stage's own options for ``medadapt crawl RECIPE`` (the common ones come from medadapt.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from medadapt.runs.stage import StageCall


def crawl_options(
    recipe: Any, recipe_path: Path, runs_dir: Path,
    re_extract: Annotated[bool, typer.Option("--re-extract", help="Extract again from the stored WARC; fetch nothing.")] = False,
) -> StageCall:
    from medadapt.crawl.stage import CrawlStage

    return StageCall(CrawlStage(re_extract=re_extract), force=re_extract)
