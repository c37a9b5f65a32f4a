"""Zero-record and mostly-lost results are errors, smaller losses are printed (issue 21, items 4 and 8):
`data convert` on the wrong columns, the data stage filtering out every record's language, `data inspect`
on a CSV in a shipped mapping's layout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from shared_data import SHARED
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.errors import DataError

runner = CliRunner()


def _medadapt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medadapt.cli", *args], capture_output=True, text=True, timeout=120)


def test_convert_with_the_wrong_columns_fails_naming_them(tmp_path):
    csv = tmp_path / "wrong.csv"
    csv.write_text("q,a\nتب دارم,استراحت کنید\n", encoding="utf-8")
    done = _medadapt("data", "convert", str(csv), str(tmp_path / "out.jsonl"), "--from", "gaokerena-mf3qa",
                     "--to", "qa")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "✓" not in done.stdout
    assert done.stderr.strip() == (f"error: {csv}: kept 0 of 1 rows: question: missing columns 'Question', "
                                   "'Answer' (columns: q, a) ×1")
    canonical = runner.invoke(app, ["data", "convert", str(csv), str(tmp_path / "o.jsonl"), "--from", "qa", "--to", "qa"])
    assert isinstance(canonical.exception, DataError)
    assert "question: missing question, answer (columns: q, a)" in str(canonical.exception)  # not `source: Field required`
    allowed = runner.invoke(app, ["data", "convert", str(csv), str(tmp_path / "o.jsonl"), "--from", "qa", "--to", "qa",
                                  "--allow-empty"])
    assert allowed.exit_code == 0 and "lost 1 of 1 rows (100%)" in allowed.output


def _qa(path, lang: str, n: int) -> None:
    path.write_text("".join(json.dumps({"id": f"{lang}{i}", "source": "forum", "lang": lang, "question": f"سوال {i}؟",
                                        "answer": f"پاسخ {i}."}, ensure_ascii=False) + "\n" for i in range(n)),
                    encoding="utf-8")


def _recipe(tmp_path, languages: str, extra: str = "") -> str:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"name: t\nlanguages: {languages}\nmodel: smollm2-135m\ndata:\n  sources: [{{path: qa.jsonl}}]\n"
                      f"{extra}report: false\n", encoding="utf-8")
    return str(recipe)


def test_the_data_stage_fails_when_language_filtering_removes_most_records(tmp_path):
    _qa(tmp_path / "qa.jsonl", "fa", 10)
    done = _medadapt("data", _recipe(tmp_path, "[en]"), "--runs-dir", str(tmp_path / "runs"))
    assert done.returncode == 2 and "Traceback" not in done.stderr and "training chats" not in done.stdout
    assert ("error: qa.jsonl: kept 0 of 10 rows: language fa not in the recipe's languages ['en'] ×10 "
            "(set data.allow_empty / data.max_rejected_fraction if intended)") in done.stderr.splitlines()


def test_the_data_stage_prints_partial_losses_and_allows_what_the_recipe_allows(tmp_path):
    _qa(tmp_path / "qa.jsonl", "fa", 6)
    with (tmp_path / "qa.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "x", "source": "forum", "lang": "fa", "question": "بی پاسخ؟"}\n')
    result = runner.invoke(app, ["data", _recipe(tmp_path, "[fa]"), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "qa.jsonl: lost 1 of 7 rows (14%): answer: missing answer" in result.output
    (tmp_path / "en.jsonl").write_text("", encoding="utf-8")  # e.g. a generate task that produced nothing
    two = "sources: [{path: qa.jsonl}, {path: en.jsonl}]"
    recipe = _recipe(tmp_path, "[fa]").replace("recipe.yaml", "two.yaml")
    (tmp_path / "two.yaml").write_text((tmp_path / "recipe.yaml").read_text().replace("sources: [{path: qa.jsonl}]", two))
    empty = runner.invoke(app, ["data", recipe, "--runs-dir", str(tmp_path / "runs2")])
    assert isinstance(empty.exception, DataError) and "en.jsonl: kept 0 of 0 rows" in str(empty.exception)
    (tmp_path / "two.yaml").write_text((tmp_path / "two.yaml").read_text().replace("report:", "  allow_empty: true\nreport:"))
    allowed = runner.invoke(app, ["data", recipe, "--runs-dir", str(tmp_path / "runs3")])
    assert allowed.exit_code == 0, allowed.output


def test_inspect_recognises_a_shipped_mappings_layout_by_its_columns(tmp_path):
    csv = tmp_path / "forum.csv"
    csv.write_text("Question,Answer\nتب دارم,استراحت کنید\n", encoding="utf-8")
    result = runner.invoke(app, ["data", "inspect", str(csv), "--examples", "0"])
    assert result.exit_code == 0, result.output
    assert "read as gaokerena-mf3qa (guessed from its columns" in result.output and '{"niniban.com": 1}' in result.output
    unknown = tmp_path / "other.csv"
    unknown.write_text("foo,bar\n1,2\n", encoding="utf-8")
    failed = runner.invoke(app, ["data", "inspect", str(unknown)])
    assert isinstance(failed.exception, DataError) and "--from" in str(failed.exception)


@pytest.mark.skipif(not (SHARED / "data/gaokerena").is_dir(), reason="shared data not present")
def test_inspect_guesses_every_gaokerena_file():
    from medadapt.format.inspect import guess_format

    expected = {"mf3qa/niniban_crawled.csv": "gaokerena-mf3qa", "mf3qa/dev.csv": "gaokerena-mf3qa",
                "exams/basic_sciences_1400_1403.csv": "gaokerena-exams",
                "medmcqa_fa/filtered_qas_part1.csv": "gaokerena-medmcqa-fa",
                "mmlu_fa/mmlu-anatomy_fa.csv": "gaokerena-mmlu-fa", "mmlu_fa/mmlu-anatomy_fa.xlsx": "gaokerena-mmlu-fa"}
    assert {name: guess_format(SHARED / "data/gaokerena" / name) for name in expected} == expected
