"""The four paper recipes' smoke profiles, run for real: `medadapt run recipes/<paper>.yaml --profile smoke` on
the embedded SmolLM2-135M, on the CPU. Every stage of each recipe's road runs, the paper's own method shows in
what the stages leave (Gaokerena's 60 % corpus fraction, BiMediX's Arabic:English 1:2, CollectiveSFT's
per-source cap over three layouts, MMed-IFT's instruction-tuning stage 1 on its own chats), and the report
holds the paper's table with our figures in it.

The Gaokerena smoke run reads the real Gaokerena files in ../shared/data (skipped, saying so, when absent);
the other three read the sample files shipped under medadapt/resources/papers/ and resources/multilingual/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.report.paper_table import load_paper
from shared_data import SHARED

# minutes on a 2-core CPU with the real embedded model: `make test-papers` (which .ci/run calls), not `make test`
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DATA = SHARED / "data"
GAOKERENA_FILES = ["gaokerena/mf3qa/niniban_filtered.csv", "gaokerena/mf3qa/dev.csv", "kqa/kqa_en.jsonl",
                   "gaokerena/mmlu_fa/mmlu-anatomy_fa.csv", "gaokerena/mmlu_fa/mmlu-medical_genetics_fa.csv",
                   "gaokerena/exams/basic_sciences_1400_1403.csv"]
NUMBER = re.compile(r"^\d+(\.\d+)?[MB]?$")


@pytest.fixture(scope="module")
def model_home(tmp_path_factory) -> Path:
    """One medadapt home for the module: the embedded model is converted once, not once per recipe."""
    return tmp_path_factory.mktemp("medadapt-home")


def run_smoke(paper: str, tmp_path: Path, monkeypatch, home: Path, *extra: str) -> tuple[Path, str, dict]:
    """Run the recipe's smoke profile; return its run folder, report.md and manifest, with every stage done."""
    monkeypatch.setenv("MEDADAPT_HOME", str(home))
    recipe = REPO / "recipes" / f"{paper}.yaml"
    result = CliRunner().invoke(app, ["run", str(recipe), "--profile", "smoke", "--runs-dir", str(tmp_path), *extra])
    assert result.exit_code == 0, result.output
    run = tmp_path / f"{paper}-smoke"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    applied = yaml.safe_load((run / "recipe.yaml").read_text(encoding="utf-8"))
    expected = [s for s in ("crawl", "curate", "generate", "data", "train", "evaluate") if applied.get(s)] + ["report"]
    assert list(manifest["stages"]) == expected
    assert all(record["status"] == "done" for record in manifest["stages"].values()), manifest["stages"]
    return run, (run / "report" / "report.md").read_text(encoding="utf-8"), manifest


def table_rows(report: str, paper: str) -> dict[str, list[str]]:
    """The paper table's rows in report.md (label → cells), after checking its title and header."""
    spec = load_paper(paper)
    assert f"## {spec['title']}" in report
    section = report.split(f"## {spec['title']}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    assert cells[0][0] == spec.get("corner", "")
    return {row[0]: row[1:] for row in cells[1:]}


def json_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_gaokerena_smoke(tmp_path, monkeypatch, model_home):
    missing = [name for name in GAOKERENA_FILES if not (DATA / name).is_file()]
    if missing:
        pytest.skip(f"the Gaokerena smoke run reads the real files under {DATA}; missing: {', '.join(missing)}")
    run, report, manifest = run_smoke("gaokerena", tmp_path, monkeypatch, model_home, "--data-dir", str(DATA))
    imported = json_file(run / "data" / "stats.json")["imported"]
    corpus = next(v for v in imported.values() if v["path"].endswith("article/train.jsonl"))
    assert corpus["left_out"], corpus  # 60 % of the corpus for stage 1: the rest is left out and counted
    assert json_file(run / "train" / "summary.json")["steps"] > 0
    rows = table_rows(report, "gaokerena")
    for label in ("MMLU-fa anatomy", "MMLU-fa medical genetics", "IBMSEE Sept 2023 (pass mark 36 %)"):
        assert all(NUMBER.match(c) for c in rows[label]), rows[label]  # every model scored on them
    assert rows["MMLU-fa college medicine"][0] == "—"  # not in the shared data: a gap, not a number
    assert rows["parameters"][:2] == ["135M", "135M"]
    assert NUMBER.match(rows["inference time (s)"][0])


def test_bimedix_smoke(tmp_path, monkeypatch, model_home):
    run, report, _ = run_smoke("bimedix", tmp_path, monkeypatch, model_home)
    by_lang = json_file(run / "data" / "stats.json")["by_lang"]
    assert by_lang["en"] == 2 * by_lang["ar"]  # Arabic:English 1:2
    generated = json_file(run / "generate" / "stats.json")["tasks"]
    assert set(generated) == {"qa-ar", "conversation"}
    rows = table_rows(report, "bimedix")
    for label in ("MedQA", "MMLU anatomy"):
        assert all(NUMBER.match(c) for c in rows[label]), rows[label]  # English, Arabic, bilingual
    assert rows["PubMedQA"] == ["—", "—", "—"]


def test_collectivesft_smoke(tmp_path, monkeypatch, model_home):
    run, report, _ = run_smoke("collectivesft", tmp_path, monkeypatch, model_home)
    stats = json_file(run / "data" / "stats.json")
    assert set(stats["by_source"]) == {"smoke-alpaca", "smoke-sharegpt", "medadapt-collectivesft-smoke-qa"}
    assert all(n <= 2 for n in stats["by_source"].values()) and stats["capped"]  # the cap per source
    chats = [json.loads(line) for line in (run / "data" / "stage2_chat.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(m["role"] == "system" for c in chats for m in c["messages"])  # Alpaca's system kept
    rows = table_rows(report, "collectivesft")
    assert set(rows) == {"base", "trained"}
    assert all(NUMBER.match(c) for c in rows["trained"]), rows  # six CMB categories and the average


def test_mmed_ift_smoke(tmp_path, monkeypatch, model_home):
    run, report, _ = run_smoke("mmed-ift", tmp_path, monkeypatch, model_home)
    stats = json_file(run / "data" / "stats.json")
    assert stats["stage1_chat"] > 0 and stats["train"] > 0  # Q&A for stage 1, exam questions for stage 2
    assert set(json_file(run / "generate" / "stats.json")["tasks"]) == {"expand", "qa_generate", "judge", "qa-fr"}
    rows = table_rows(report, "mmed-ift")
    assert set(rows) == {"base", "trained"}
    cells = dict(zip([c["label"] for c in load_paper("mmed-ift")["columns"]], rows["trained"]))
    assert cells["en: MedMCQA"] == "—" and cells["average"] == "—"
    assert all(NUMBER.match(v) for k, v in cells.items() if k not in ("en: MedMCQA", "average")), cells
