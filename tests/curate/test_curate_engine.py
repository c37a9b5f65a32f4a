"""The datatrove engine (optional extra `scale`): ≥ 2 parallel tasks, the same result as in-process, and a
restart that skips the tasks datatrove already marked completed."""

from __future__ import annotations

import pytest
from curate_helpers import ANSWER_FA, make_project, qa, step
from rich.console import Console

from medadapt.curate.config import EngineSpec
from medadapt.curate.stage import CurateStage
from medadapt.curate.steps import StepEnv
from medadapt.records.jsonl import iter_jsonl
from medadapt.recipe import load_recipe
from medadapt.runs import run_stages

pytest.importorskip("datatrove", reason="the scale extra (datatrove) is not installed")

from medadapt.curate.engine import Datatrove  # noqa: E402


def _docs(n: int):
    return [qa(f"q{i}", f"سوال {i}", ANSWER_FA if i % 3 else "کوتاه است") for i in range(n)]


def test_shards_in_parallel_and_skips_completed_tasks_on_restart(tmp_path):
    engine = Datatrove(EngineSpec(kind="datatrove", tasks=3, workers=2), StepEnv(["fa"]))
    answer_length = step({"step": "answer_length", "min_words": 5}, ["fa"])
    expected = answer_length.apply(_docs(30))
    work = tmp_path / "work"
    result = engine.apply(answer_length, _docs(30), work)
    assert [d.id for d in result.kept] == [d.id for d in expected.kept]
    assert [r.doc.id for r in result.rejected] == [r.doc.id for r in expected.rejected]
    assert sorted(p.name for p in (work / "logs" / "completions").iterdir()) == ["00000", "00001", "00002"]

    # restart: task 1 lost its completion mark (as if killed), task 0's output is tampered with to show
    # whether it is recomputed
    (work / "logs" / "completions" / "00001").unlink()
    (work / "kept" / "00001.jsonl").unlink()
    (work / "kept" / "00000.jsonl").write_text("", encoding="utf-8")
    again = engine.apply(answer_length, _docs(30), work)
    ids = {d.id for d in again.kept}
    first_shard = {f"q{i}" for i in range(10)}
    assert not ids & first_shard  # task 0 was skipped: its (emptied) output stands
    assert ids == {d.id for d in expected.kept} - first_shard  # task 1 was run again, task 2 kept


STEPS = """\
  steps:
    - {step: normalize}
    - {step: exact_dedup}
    - {step: answer_length, min_words: 10}
    - {step: pii}
"""


def test_stage_on_datatrove_matches_in_process(tmp_path):
    recipe = make_project(tmp_path)
    base = recipe.read_text(encoding="utf-8")
    base = base[: base.index("  steps:")] + STEPS + base[base.index("  split:"):]  # per-document and global steps
    outputs = {}
    for kind in ("inprocess", "datatrove"):
        text = base
        if kind == "datatrove":
            text += "  engine: {kind: datatrove, tasks: 2, workers: 2}\n"
        path = tmp_path / f"{kind}.yaml"
        path.write_text(text, encoding="utf-8")
        result = run_stages([CurateStage()], load_recipe(path), path, tmp_path / kind, console=Console(quiet=True))
        out = result.run.stage_dir("curate")
        outputs[kind] = {name: list(iter_jsonl(out / name)) for name in ("qa/train.jsonl", "qa/test.jsonl", "rejected.jsonl")}
    assert outputs["inprocess"] == outputs["datatrove"]
