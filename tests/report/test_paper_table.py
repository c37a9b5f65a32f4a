"""A paper's table is data: the one renderer lays out every shipped table from what evaluate left, fills
each cell from its row's and column's keys, averages without hiding gaps, and shows published figures only
when the run uses the paper's model."""

from __future__ import annotations

import pytest
import yaml

from medadapt.errors import DataError
from medadapt.report.paper_table import PAPERS, load_paper, paper_table, shipped_papers
from medadapt.report.render import render_report


def table(name: str, models: list[str], rows: dict[str, list[float | None]], parameters=None) -> dict:
    """One benchmark table as evaluate/report.json holds it: rows (group → accuracy per model)."""
    return {"name": name, "models": models, "parameters": parameters or [None] * len(models),
            "rows": [{"group": group, "n": 4, "cells": [None if a is None else {"acc": a, "ci95": None} for a in accs]}
                     for group, accs in rows.items()]}


def test_every_shipped_paper_table_loads_and_names_its_layout():
    assert shipped_papers() == ["bimedix", "collectivesft", "gaokerena", "mmed-ift"]
    for name in shipped_papers():
        spec = load_paper(name)
        assert spec["citation"] and spec["title"] and "arXiv:" in spec["citation"]
        empty = paper_table(spec, None, "some-model")  # a run with no evaluation: the layout, every cell a dash
        assert all(cell == "—" for row in empty["rows"] for cell in row[1:])


def test_gaokerena_rows_are_benchmarks_columns_models_with_size_and_time():
    evaluation = {"benchmarks": [
        table("mmlu-fa-anatomy", ["base", "trained"], {"overall (micro)": [0.25, 0.5]}, [135_000_000, 135_000_000]),
        table("mmlu-fa-medical-genetics", ["base", "trained"], {"overall (micro)": [0.5, 0.75]}),
    ], "freeform": {"latency": {"base": {"mean_wall_s": 1.25}, "trained": {"mean_wall_s": 1.5}}}}
    result = paper_table(load_paper("gaokerena"), evaluation, "smollm2-135m")
    assert result["header"] == ["benchmark", "base", "trained"]
    rows = {row[0]: row[1:] for row in result["rows"]}
    assert rows["MMLU-fa anatomy"] == ["25.0", "50.0"] and rows["MMLU-fa medical genetics"] == ["50.0", "75.0"]
    assert rows["MMLU-fa average"] == ["—", "—"]  # four subjects missing: no average that hides them
    assert rows["parameters"] == ["135M", "135M"] and rows["inference time (s)"] == ["1.25", "1.50"]
    assert not result["published_shown"]


def test_language_columns_fill_from_benchmark_names_and_average():
    evaluation = {"benchmarks": [table("medqa-en", ["base", "trained"], {"overall (micro)": [0.5, 0.5]}),
                                 table("medqa-ar", ["base", "trained"], {"overall (micro)": [0.25, 0.75]})]}
    result = paper_table(load_paper("bimedix"), evaluation, "smollm2-135m")
    assert result["header"] == ["benchmark", "English", "Arabic", "bilingual"]
    assert result["rows"][2] == ["MedQA", "50.0", "75.0", "62.5"]  # the trained model by default
    assert result["rows"][0] == ["PubMedQA", "—", "—", "—"]


def test_category_columns_and_published_rows_for_the_papers_model(tmp_path):
    spec = yaml.safe_load((PAPERS / "collectivesft.yaml").read_text(encoding="utf-8"))
    spec["published"] = [{"label": "CollectiveSFT (paper)", "values": {"average": 12.3}}]
    groups = {f"subject: {c}": [0.5] for c in ("医师考试", "护理考试", "药师考试", "技师考试", "专业知识考试", "医学考研")}
    evaluation = {"benchmarks": [table("cmb", ["trained"], {"overall (micro)": [0.5], **groups})]}
    ours = paper_table(spec, evaluation, "smollm2-135m")
    assert ours["rows"] == [["trained", *["50.0"] * 7]] and not ours["published_shown"]
    full = paper_table(spec, evaluation, "internlm/internlm2_5-7b")
    assert full["published_shown"] and full["rows"][1] == ["CollectiveSFT (paper)", *["—"] * 6, "12.3"]
    out = tmp_path / "report"
    out.mkdir()
    context = {"title": "t", "recipe": {"model": "m", "languages": ["zh"], "seed": 0}, "manifest": {"stages": {}},
               "sections": [], "plots": {}, "by_language": {}, "name": "r", "paper_table": full}
    render_report(context, out)
    md, html = (out / "report.md").read_text(encoding="utf-8"), (out / "index.html").read_text(encoding="utf-8")
    assert "| CollectiveSFT (paper) | — | — | — | — | — | — | 12.3 |" in md
    assert "<th>医师考试 (physician)</th>" in html and "arXiv:2407.19705" in html


def test_a_users_table_file_and_a_missing_one(tmp_path):
    (tmp_path / "mine.yaml").write_text("title: Mine\nrows: [{label: x, benchmark: b}]\ncolumns: {each: model}\n",
                                        encoding="utf-8")
    assert load_paper("mine.yaml", tmp_path)["title"] == "Mine"
    with pytest.raises(DataError, match="no shipped paper table 'nope.yaml'"):
        load_paper("nope.yaml", tmp_path)
