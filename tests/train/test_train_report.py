"""What the train stage leaves for the report: the summary in report.json and the loss curves."""

from __future__ import annotations

import json

from run_fixtures import write_train

from medadapt.train.report import write_report


def test_summary_and_both_loss_curves(tmp_path):
    summary = write_train(tmp_path)
    write_report(tmp_path)
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == {"summary": summary}
    assert (tmp_path / "loss.png").stat().st_size > 1000 and (tmp_path / "stage1-loss.png").stat().st_size > 1000


def test_no_stage_1_curve_without_stage_1(tmp_path):
    write_train(tmp_path, stage1=False)
    write_report(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["loss.png"]
