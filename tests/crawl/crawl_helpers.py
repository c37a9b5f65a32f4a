"""Helpers for the crawl tests: a recipe for the fixture site and a crawl through the runner."""

from __future__ import annotations

from pathlib import Path

import yaml
from rich.console import Console

from medadapt.crawl.stage import CrawlStage
from medadapt.recipe import load_recipe
from medadapt.runs import run_stages


def write_recipe(folder: Path, base: str, **crawl: object) -> Path:
    """A recipe that crawls the fixture's two sites at ``base`` without politeness delays."""
    section = {"sites": [{"adapter": "fixture-forum", "base_url": base}, {"adapter": "fixture-magazine", "base_url": base}],
               "per_host_delay": 0, "per_host_concurrency": 4, "concurrency": 8, **crawl}
    recipe = {"name": "crawltest", "languages": ["en", "fa"], "model": "smollm2-135m", "crawl": section}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path


def run_crawl(recipe_path: Path, runs: Path, re_extract: bool = False, force: bool = False):
    recipe = load_recipe(recipe_path)
    force = {"crawl"} if re_extract or force else set()
    return run_stages([CrawlStage(re_extract=re_extract)], recipe, recipe_path, runs, force, Console(quiet=True))
