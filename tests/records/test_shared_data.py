"""Every file of ../shared/data imports with its shipped mapping, with nothing quarantined, and the
Persian MMLU converts to an lm-eval task that lm-evaluation-harness accepts (tiny random model, offline)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.records.importers import import_file

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GAOKERENA = SHARED_DATA / "gaokerena"
pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"shared data not present at {SHARED_DATA}")

FILES = [
    ("mmlu_fa/mmlu-anatomy_fa.csv", "gaokerena-mmlu-fa", 135),
    ("mmlu_fa/mmlu-anatomy_fa.xlsx", "gaokerena-mmlu-fa", 135),
    ("mmlu_fa/mmlu-medical_genetics_fa.csv", "gaokerena-mmlu-fa", 100),
    ("exams/basic_sciences_1400_1403.csv", "gaokerena-exams", 1710),
    ("mf3qa/dev.csv", "gaokerena-mf3qa", 2000),
    ("mf3qa/niniban_crawled.csv", "gaokerena-mf3qa", 9728),
    ("mf3qa/niniban_filtered.csv", "gaokerena-mf3qa", 5405),
]


@pytest.mark.parametrize(("name", "mapping", "expected"), FILES)
def test_gaokerena_files_import_completely(name, mapping, expected):
    result = import_file(GAOKERENA / name, mapping)
    assert result.rejected == [] and len(result.records) == expected


def test_medmcqa_fa_parts_import_completely_with_explanations():
    parts = sorted((GAOKERENA / "medmcqa_fa").glob("filtered_qas_part*.csv"))
    results = [import_file(p, "gaokerena-medmcqa-fa") for p in parts]
    records = [r for result in results for r in result.records]
    assert len(parts) == 22 and all(result.rejected == [] for result in results)
    assert len(records) == 17885 and len({r.id for r in records}) == len(records)
    assert sum(r.explanation is not None for r in records) == 17885 - 45  # 45 rows have an empty Expression


def test_kqa_and_exam_details_are_kept():
    kqa = import_file(SHARED_DATA / "kqa" / "kqa_en.jsonl", "kqa")
    assert kqa.rejected == [] and len(kqa.records) == 201 and kqa.records[0].meta["Must_have"]
    exam = import_file(GAOKERENA / "exams" / "basic_sciences_1400_1403.csv", "gaokerena-exams").records[0]
    assert exam.meta == {"Source": "پزشکی شهریور 401"} and exam.subject == "فیزیولوژی" and exam.answer == 2


def test_xlsx_and_csv_copies_of_mmlu_anatomy_agree():
    csv = import_file(GAOKERENA / "mmlu_fa/mmlu-anatomy_fa.csv", "gaokerena-mmlu-fa").records
    xlsx = import_file(GAOKERENA / "mmlu_fa/mmlu-anatomy_fa.xlsx", "gaokerena-mmlu-fa").records
    strip = lambda rs: [(r.question, [c.strip() for c in r.choices], r.answer, r.subject) for r in rs]  # noqa: E731
    assert strip(csv) == strip(xlsx)


def test_exported_lm_eval_task_runs_in_lm_eval(tmp_path, tiny_model_dir, monkeypatch):
    lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is a test dependency (pip install -e .[test])")
    from lm_eval.tasks import TaskManager

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "tasks" / "mmlu-anatomy_fa.yaml"
    converted = CliRunner().invoke(app, ["data", "convert", str(GAOKERENA / "mmlu_fa/mmlu-anatomy_fa.csv"), str(out),
                                         "--from", "gaokerena-mmlu-fa", "--to", "lm-eval"])
    assert converted.exit_code == 0, converted.output
    results = lm_eval.simple_evaluate(
        model="hf", model_args=f"pretrained={tiny_model_dir},dtype=float32", tasks=["mmlu-anatomy_fa"],
        task_manager=TaskManager(include_path=str(out.parent)), limit=4, device="cpu", batch_size=4,
    )
    scores = results["results"]["mmlu-anatomy_fa"]
    assert scores["sample_len"] == 4 and 0.0 <= scores["acc,none"] <= 1.0
    first = results["samples"]["mmlu-anatomy_fa"][0]
    context, continuation = first["arguments"][0]
    assert context.startswith("پرسش‌های چندگزینه‌ای") and context.endswith("\nپاسخ:") and continuation == " A"
    assert first["target"] == 0 and os.environ["HF_DATASETS_OFFLINE"] == "1"
    assert json.loads((out.parent / "mmlu-anatomy_fa.jsonl").read_text().splitlines()[0])["answer"] == 0
