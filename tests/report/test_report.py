"""The report reads every done stage's folder the same way (stats.json, report.json, PNGs) and renders the
sections from them; train and evaluate leave their files as their runs end."""

from __future__ import annotations

import json

from run_fixtures import write_evaluate, write_json, write_manifest, write_train

from medadapt.evaluate.report import write_report as evaluate_report
from medadapt.report.collect import collect
from medadapt.report.render import render_report, section_templates
from medadapt.runs.stage import RunDir
from medadapt.train.report import write_report as train_report

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_done_stage_is_read_alike(tmp_path):
    write_manifest(tmp_path, {"crawl": "done", "custom": "done", "train": "failed", "report": "running"})
    write_json(tmp_path / "crawl" / "stats.json", {"qa": 3})
    write_json(tmp_path / "custom" / "report.json", {"rows": [1, 2]})
    (tmp_path / "custom" / "b.png").write_bytes(PNG)
    (tmp_path / "custom" / "a.png").write_bytes(PNG)
    write_json(tmp_path / "train" / "report.json", {"summary": {}})
    context = collect(RunDir(tmp_path), {"crawl", "train"})
    assert context["sections"] == ["crawl"]  # a section template, and done
    assert context["stats"] == {"crawl": {"qa": 3}, "custom": None}
    assert context["report"] == {"crawl": None, "custom": {"rows": [1, 2]}}
    assert context["plots"] == {"crawl": [], "custom": ["a.png", "b.png"]}
    assert "report" not in context["manifest"]["stages"] and context["name"] == tmp_path.name


def test_sections_render_from_what_train_and_evaluate_left(tmp_path):
    run = tmp_path / "tiny"
    write_manifest(run, {"data": "done", "train": "done", "evaluate": "done", "report": "running"})
    write_json(run / "data" / "stats.json", {"train": 4, "dev": 1, "by_lang": {"en": 4}, "by_source": {"s": 4},
                                             "rejected": 1, "rejected_by": {"row 7: source": 1}})
    write_train(run / "train")
    train_report(run / "train")
    write_evaluate(run / "evaluate")
    evaluate_report(run / "evaluate")
    context = collect(RunDir(run), section_templates())
    context.update(title="t", recipe={"model": "m", "languages": ["en"], "seed": 0})
    out = tmp_path / "report"
    out.mkdir()
    written = render_report(context, out, {name: run / name for name in context["plots"]})
    assert sorted(p.name for p in written if p.suffix == ".png") == [
        "evaluate-accuracy-tiny-mcqa.png", "evaluate-win-rates.png", "train-loss.png", "train-stage1-loss.png"]
    html, md = (out / "index.html").read_text(encoding="utf-8"), (out / "report.md").read_text(encoding="utf-8")
    assert "<tr><td>stage-2 chats, train</td><td>4</td></tr>" in html and "| stage-2 chats, dev | 1 |" in md
    assert 'src="train-loss.png"' in html and "![training loss](train-loss.png)" in md
    assert "<td>dev loss before → after</td><td>3.0 → 2.0</td>" in html
    assert "<th>base</th><th>trained</th><th>Δ trained − base</th>" in html and "subject: anatomy" in html
    assert 'src="evaluate-accuracy-tiny-mcqa.png"' in html and "McNemar p = 0.5" in html
    assert "| overall (micro) | 4 | 0.250 [0.15, 0.35] | 0.750 [0.65, 0.85] |" in md
    assert "Pass mark 0.50: base failed, trained passed." in md
    assert "mean TTFT (s)" in html and 'src="evaluate-win-rates.png"' in html and "judge-model" in md
    assert (out / "train-loss.png").read_bytes() == (run / "train" / "loss.png").read_bytes()
    assert json.loads((run / "evaluate" / "report.json").read_text())["benchmarks"][0]["plot"] == "accuracy-tiny-mcqa.png"


def test_a_stage_without_report_files_leaves_its_section_empty(tmp_path):
    write_manifest(tmp_path, {"train": "done", "evaluate": "done"})
    (tmp_path / "train").mkdir()
    (tmp_path / "evaluate").mkdir()
    context = collect(RunDir(tmp_path), section_templates())
    context.update(title="t", recipe={"model": "m", "languages": ["en"], "seed": 0})
    out = tmp_path / "report"
    out.mkdir()
    render_report(context, out, {})
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Training" not in html and "Evaluation" not in html and "<h2>Stages</h2>" in html
