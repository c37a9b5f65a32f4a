"""Mapping patterns match on folded text: the letter variants real Persian files carry (a tatweel where
others write `_`, Arabic ي/ك, ZWNJ or space, trailing spaces) still give the right value."""

from __future__ import annotations

import csv
import json

import pytest
from shared_data import SHARED
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.records.importers import import_file

MMLU_FA = sorted((SHARED / "data" / "gaokerena" / "mmlu_fa").glob("*.csv"))
HEADER = ["question", "option1", "option2", "option3", "option4", "answer", "Source"]
SOURCES = ["mmlu-professional_medicineـtranslation",   # the public file's tatweel (U+0640)
           "mmlu-professional_medicine_translation ",  # a trailing space
           "mmlu-professional_medicine_translation"]


def write_mmlu_fa(path, sources):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i, source in enumerate(sources):
            writer.writerow([f"کدام دارو برای بیمار {i} مناسب است؟", "آسپرین", "پنی‌سیلین", "انسولین", "هپارین",
                             str(i % 4 + 1), source])
    return path


def test_tatweel_and_trailing_space_in_the_source_column_give_the_subject(tmp_path):
    result = import_file(write_mmlu_fa(tmp_path / "mmlu-professional_medicine_fa.csv", SOURCES), "gaokerena-mmlu-fa")
    assert result.rejected == []
    assert [r.subject for r in result.records] == ["professional_medicine"] * 3


def test_a_users_persian_pattern_matches_arabic_letters_and_zwnj(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("kind: qa\nlang: fa\nfields:\n  question: q\n  answer: a\n"
                       "  topic: {column: t, pattern: '^درس (بیماری های .+)$'}\n", encoding="utf-8")
    data = tmp_path / "d.jsonl"
    row = {"q": "سوال؟", "a": "جواب.", "t": "درس بيماري\u200cهاي قلبي "}  # Arabic ي, a ZWNJ, a trailing space
    data.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = import_file(data, str(mapping))
    assert result.rejected == [] and result.records[0].topic == "بیماری های قلبی"


def test_eval_mcqa_loads_every_row_of_a_tatweel_file(tmp_path, tiny_model_dir):
    bench = write_mmlu_fa(tmp_path / "mmlu-professional_medicine_fa.csv", [SOURCES[0]] * 4)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "mcqa", "--model", str(tiny_model_dir), "--benchmark", str(bench),
                                      "--format", "gaokerena-mmlu-fa", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text())
    assert saved["n"] == 4 and set(saved["models"]["model"]["by_subject"]) == {"professional_medicine"}


@pytest.mark.skipif(not MMLU_FA, reason=f"shared Gaokerena MMLU-fa files not present under {SHARED}")
@pytest.mark.parametrize("original", MMLU_FA, ids=[p.name for p in MMLU_FA])
def test_a_public_file_with_a_tatweel_substituted_loads_like_the_original(tmp_path, original):
    text = original.read_text(encoding="utf-8")
    assert "_translation" in text
    copy = tmp_path / original.name
    copy.write_text(text.replace("_translation", "ـtranslation"), encoding="utf-8")
    before, after = import_file(original, "gaokerena-mmlu-fa"), import_file(copy, "gaokerena-mmlu-fa")
    assert after.rejected == before.rejected == [] and len(after.records) == len(before.records) > 0
    assert [r.subject for r in after.records] == [r.subject for r in before.records]
    assert {r.subject for r in after.records} == {original.stem.removeprefix("mmlu-").removesuffix("_fa")}
