"""The multiple-choice tables the evaluate stage leaves for the report."""

from __future__ import annotations

import json

from run_fixtures import mcqa_results, write_json

from medadapt.evaluate.mcqa.report import accuracy_table, benchmark_tables


def test_rows_per_group_with_the_trained_minus_base_delta():
    table = accuracy_table(mcqa_results())
    assert table["models"] == ["base", "trained"] and table["name"] == "tiny-mcqa"
    assert [r["group"] for r in table["rows"]] == ["overall (micro)", "macro over subjects", "subject: anatomy",
                                                  "subject: physiology", "language: en"]
    assert table["rows"][0]["delta"] == 0.5 and table["rows"][2]["delta"] == 0.5
    assert table["rows"][1]["cells"][0] == {"acc": 0.25, "ci95": None}
    assert table["style_note"].startswith("log-likelihood per character") and table["passed"] == [False, True]
    assert table["mcnemar"]["only_a"] == 2 and table["unparsed"] == [None, None]
    assert table["mcnemar_others"] == {}


def test_other_columns_tested_against_base_are_in_the_table():
    results = mcqa_results()
    stage1 = {"only_a": 1, "only_b": 3, "p_value": 0.625, "n": 4}
    results["mcnemar_vs_base"] = {"trained": results["mcnemar_trained_vs_base"], "stage1": stage1}
    assert accuracy_table(results)["mcnemar_others"] == {"stage1": stage1}


def test_no_delta_without_both_models_and_a_gap_where_a_model_has_no_figure():
    results = mcqa_results()
    results["models"] = {"trained": results["models"]["trained"],
                         "lm-eval": {"acc": 0.5, "ci95": None, "macro_acc": 0.5, "by_subject": {}, "by_lang": {}}}
    table = accuracy_table(results)
    assert all("delta" not in row for row in table["rows"])
    assert table["rows"][2]["cells"][1] is None and table["rows"][0]["cells"][1] == {"acc": 0.5, "ci95": None}


def test_each_results_file_becomes_a_table_with_its_plot(tmp_path):
    write_json(tmp_path / "b" / "results.json", mcqa_results())
    write_json(tmp_path / "a" / "results.json", {**mcqa_results(), "benchmark": "other"})
    tables = benchmark_tables(tmp_path)
    assert [t["name"] for t in tables] == ["other", "tiny-mcqa"]  # in folder order
    assert [t["plot"] for t in tables] == ["accuracy-other.png", "accuracy-tiny-mcqa.png"]
    assert all((tmp_path / t["plot"]).stat().st_size > 1000 for t in tables)
    json.dumps(tables)  # report.json holds them as they are
