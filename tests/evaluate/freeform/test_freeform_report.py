"""The free-form figures the evaluate stage leaves for the report."""

from __future__ import annotations

from run_fixtures import write_evaluate

from medadapt.evaluate.freeform.report import freeform_figures


def test_no_free_form_folder_no_figures(tmp_path):
    assert freeform_figures(tmp_path) is None


def test_figures_and_the_win_rate_plot_when_a_pair_was_scored(tmp_path):
    write_evaluate(tmp_path, scored=1)
    figures = freeform_figures(tmp_path)
    assert figures["latency"]["trained"]["n"] == 2 and figures["kqa"] is None
    assert figures["judge"]["pairs"]["trained vs base"]["scored"] == 1
    assert figures["win_rate_plot"] == "win-rates.png" and (tmp_path / "win-rates.png").stat().st_size > 1000


def test_no_plot_when_every_verdict_was_unreadable(tmp_path):
    write_evaluate(tmp_path, scored=0)
    assert freeform_figures(tmp_path)["win_rate_plot"] is None and not (tmp_path / "win-rates.png").exists()
