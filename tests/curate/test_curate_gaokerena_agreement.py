"""The shipped Gaokerena-style preset reproduces the authors' keep/drop decision on niniban.

niniban_crawled.csv holds 9,728 raw pairs; niniban_filtered.csv the 5,405 the Gaokerena authors kept. The
authors kept each (question, answer) pair at most once, so a crawled row counts as kept by them when its
pair is in the filtered file and did not occur earlier in the crawl.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rich.console import Console

from medadapt.curate.stage import CurateStage
from medadapt.records.jsonl import iter_jsonl
from medadapt.recipe import load_recipe
from medadapt.runs import run_stages

MF3QA = Path(__file__).resolve().parents[3] / "shared" / "data" / "gaokerena" / "mf3qa"
RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "gaokerena-curate.yaml"

pytestmark = pytest.mark.skipif(not (MF3QA / "niniban_filtered.csv").is_file(),
                                reason=f"Gaokerena niniban files not present under {MF3QA}")


def _pairs(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["Question"], row["Answer"]) for row in csv.DictReader(handle)]


def test_preset_agrees_with_the_authors(tmp_path):
    crawled, kept_by_authors = _pairs(MF3QA / "niniban_crawled.csv"), set(_pairs(MF3QA / "niniban_filtered.csv"))
    authors, seen = {}, set()
    with (tmp_path / "niniban.jsonl").open("w", encoding="utf-8") as handle:
        for row, (question, answer) in enumerate(crawled):
            record = {"id": f"niniban-{row}", "source": "niniban", "url": "", "lang": "fa",
                      "question": question, "answer": answer}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            authors[record["id"]] = (question, answer) in kept_by_authors and (question, answer) not in seen
            seen.add((question, answer))
    assert len(authors) == 9728 and sum(authors.values()) == 5405

    recipe = tmp_path / "recipe.yaml"
    shipped = RECIPE.read_text(encoding="utf-8")
    assert "medadapt://demo/qa.jsonl" in shipped
    recipe.write_text(shipped.replace("medadapt://demo/qa.jsonl", "niniban.jsonl"), encoding="utf-8")
    parsed = load_recipe(recipe)
    result = run_stages([CurateStage()], parsed, recipe, tmp_path / "runs", console=Console(quiet=True))
    ours = {r["id"] for r in iter_jsonl(result.run.stage_dir("curate") / "qa" / "train.jsonl")}

    agreement = sum((record_id in ours) == kept for record_id, kept in authors.items()) / len(authors)
    print(f"niniban agreement with the Gaokerena authors: {agreement:.4f} ({len(ours)} kept, 5405 by the authors)")
    assert agreement >= 0.97
