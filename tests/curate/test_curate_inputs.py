"""Curate reads its inputs through the one importer, as the data stage does: a CSV with a ``format`` is
curated, a file read as the wrong layout stops the stage with one line (issue 21, items 1 and 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from shared_data import SHARED
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.curate.stage import CurateStage
from medadapt.errors import DataError, RecipeError
from medadapt.records.jsonl import iter_jsonl
from medadapt.recipe import load_recipe
from medadapt.runs import run_stages

ANSWER = ("برای درمان سردرد ابتدا باید علت آن مشخص شود؛ استراحت کافی، نوشیدن آب و پرهیز از استرس کمک می کند و "
          "اگر درد ادامه داشت به پزشک متخصص مراجعه کنید تا معاینه و آزمایش های لازم انجام شود و دارو تجویز شود.")
NINIBAN = SHARED / "data/gaokerena/mf3qa/niniban_crawled.csv"


def _recipe(folder: Path, inputs: str, extra: str = "") -> Path:
    path = folder / "recipe.yaml"
    path.write_text(f"name: c\nlanguages: [fa]\nmodel: smollm2-135m\ncurate:\n  inputs: {inputs}\n"
                    f"  preset: gaokerena_qa\n{extra}report: false\n", encoding="utf-8")
    return path


def _run(recipe: Path, runs: Path):
    return run_stages([CurateStage()], load_recipe(recipe), recipe, runs, console=Console(quiet=True))


def _kept(result) -> int:
    return json.loads((result.run.stage_dir("curate") / "stats.json").read_text())["kept"]


def _csv(folder: Path, header: str = "Question,Answer", rows: int = 4) -> Path:
    path = folder / "forum.csv"
    path.write_text(header + "\n" + "".join(f"سوال {i} درباره سردرد؟,{ANSWER} {i}\n" for i in range(rows)),
                    encoding="utf-8")
    return path


def test_a_csv_with_a_shipped_mapping_is_curated(tmp_path):
    _csv(tmp_path)
    result = _run(_recipe(tmp_path, "[{path: forum.csv, format: gaokerena-mf3qa}]"), tmp_path / "runs")
    out = result.run.stage_dir("curate")
    kept = list(iter_jsonl(out / "qa" / "train.jsonl"))
    assert [r["id"] for r in kept] == [f"forum:{i}" for i in range(2, 6)]  # file stem and row number
    assert {(r["source"], r["lang"]) for r in kept} == {("niniban.com", "fa")}
    assert json.loads((out / "stats.json").read_text())["files"][0]["kind"] == "qa"


def test_a_csv_read_as_canonical_jsonl_rows_stops_with_one_line(tmp_path):
    """The reported failure: `kind: qa` on a CSV used to read 0 of N rows and end `✓ curate: done`."""
    _csv(tmp_path)
    recipe = _recipe(tmp_path, "[{path: forum.csv, kind: qa}]")
    with pytest.raises(DataError) as error:
        _run(recipe, tmp_path / "runs")
    line = error.value.one_line()
    assert line.startswith("forum.csv: kept 0 of 4 rows: question: missing question, answer (columns: Question, "
                           "Answer") and "×4" in line and "curate.allow_empty" in line and "\n" not in line
    done = subprocess.run([sys.executable, "-m", "medadapt.cli", "curate", str(recipe), "--runs-dir",
                           str(tmp_path / "runs2")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "curate: done" not in done.stdout
    assert [line for line in done.stderr.splitlines() if "kept 0 of 4 rows" in line]


def test_losing_most_rows_fails_unless_the_recipe_allows_it(tmp_path):
    path = _csv(tmp_path, rows=3)
    path.write_text(path.read_text(encoding="utf-8") + ",بدون سوال\n,بدون سوال\n,بدون سوال\n,بدون سوال\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"forum.csv: lost 4 of 7 rows \(57%, more than 50%\): question: "):
        _run(_recipe(tmp_path, "[{path: forum.csv, format: gaokerena-mf3qa}]"), tmp_path / "runs")
    allowed = _recipe(tmp_path, "[{path: forum.csv, format: gaokerena-mf3qa}]", "  max_rejected_fraction: 0.6\n")
    assert _kept(_run(allowed, tmp_path / "runs")) == 3


def test_keeping_nothing_after_the_filters_fails_unless_allowed(tmp_path):
    (tmp_path / "forum.csv").write_text("Question,Answer\nسوال؟,کوتاه\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"kept 0 of 1 documents: answer_length: too_few_words ×1"):
        _run(_recipe(tmp_path, "[{path: forum.csv, format: gaokerena-mf3qa}]"), tmp_path / "runs")
    allowed = _recipe(tmp_path, "[{path: forum.csv, format: gaokerena-mf3qa}]", "  allow_empty: true\n")
    assert _kept(_run(allowed, tmp_path / "runs")) == 0


def test_a_format_of_another_kind_is_a_recipe_error(tmp_path):
    _csv(tmp_path)
    with pytest.raises(RecipeError, match="curate reads qa or article records; 'gaokerena-exams' gives mcqa"):
        load_recipe(_recipe(tmp_path, "[{path: forum.csv, format: gaokerena-exams}]"))
    with pytest.raises(RecipeError, match="kind article differs from what 'gaokerena-mf3qa' gives"):
        load_recipe(_recipe(tmp_path, "[{path: forum.csv, format: gaokerena-mf3qa, kind: article}]"))


@pytest.mark.skipif(not NINIBAN.is_file(), reason="shared data not present")
def test_curating_the_niniban_csv_keeps_the_pairs_converting_it_first_keeps(tmp_path):
    converted = tmp_path / "niniban.jsonl"
    done = CliRunner().invoke(app, ["data", "convert", str(NINIBAN), str(converted), "--from", "gaokerena-mf3qa",
                                    "--to", "qa"])
    assert done.exit_code == 0, done.output
    direct = _run(_recipe(tmp_path, f"[{{path: {NINIBAN}, format: gaokerena-mf3qa}}]"), tmp_path / "direct")
    via = _run(_recipe(tmp_path, f"[{{path: {converted}, kind: qa}}]"), tmp_path / "via")

    def pairs(result) -> list[tuple[str, str]]:
        return [(r["question"], r["answer"]) for r in iter_jsonl(result.run.stage_dir("curate") / "qa" / "train.jsonl")]

    assert pairs(direct) == pairs(via) and 4000 < len(pairs(direct)) < 7000
