"""What the report's train section shows, left in ``train/`` when training ends: ``report.json`` (the
summary the section's tables read) and the loss curves, ``stage1-loss.png`` and ``loss.png`` (the last
stage's log, which the stage-2 section shows)."""

from __future__ import annotations

import json
from pathlib import Path

from medadapt.records.jsonl import iter_jsonl, write_json
from medadapt.train.plots import plot_loss_curves


def write_report(out: Path) -> None:
    """From ``out``'s summary.json, log.jsonl and stage1/log.jsonl (when stage 1 ran)."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    stage1_log = out / "stage1" / "log.jsonl"
    if stage1_log.is_file():
        sft = summary.get("stage1", {}).get("objective") == "sft"
        plot_loss_curves(list(iter_jsonl(stage1_log)), out / "stage1-loss.png",
                         "Stage 1: instruction tuning" if sft else "Stage 1: continued pretraining",
                         "training loss (assistant tokens)" if sft else "training loss (every token)")
    plot_loss_curves(list(iter_jsonl(out / "log.jsonl")), out / "loss.png", "Stage 2 SFT",
                     "training loss (assistant tokens)")
    write_json(out / "report.json", {"summary": summary})
