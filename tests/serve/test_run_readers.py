"""Every command that reads a run directory (chat, serve, export, eval compare, report) works on a run whose
recipe used a curate preset: the saved recipe.yaml holds the preset and its steps (issue 21, failure 2)."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from medadapt.cli.main import app


def test_chat(preset_run):
    result = CliRunner().invoke(app, ["chat", str(preset_run), "--rtl", "logical"], input="Hello\n/exit\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("assistant>") == 1


def test_serve(preset_run, monkeypatch):
    import medadapt.serve.server as server

    served = {}
    monkeypatch.setattr(server, "run_server", lambda app_, host, port: served.update(app=app_, host=host))
    result = CliRunner().invoke(app, ["serve", str(preset_run)])
    assert result.exit_code == 0, result.output
    assert served["host"] == "127.0.0.1" and "model preset-run" in result.output


def test_export(preset_run, tmp_path):
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["export", str(preset_run), "--to", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").is_file() and "# Preset run" in (out / "README.md").read_text(encoding="utf-8")


def test_eval_compare(preset_run):
    result = CliRunner().invoke(app, ["eval", "compare", str(preset_run)])
    assert result.exit_code == 0, result.output
    assert "McNemar" in result.output and "0.5000" in result.output  # base 2/4 vs trained 4/4


def test_report(preset_run, tmp_path):
    run = tmp_path / "runs" / preset_run.name
    shutil.copytree(preset_run, run)
    result = CliRunner().invoke(app, ["report", str(run / "recipe.yaml"), "--runs-dir", str(run.parent)])
    assert result.exit_code == 0, result.output
    assert "Preset run" in (run / "report" / "index.html").read_text(encoding="utf-8")
