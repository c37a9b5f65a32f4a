"""A paper's main results table, laid out as the paper printed it and filled from what this run measured.

Each table is data (``report/papers/<paper>.yaml``, or a YAML file of the user's, named by the recipe's
``report.paper_table``): a title and citation, ``rows`` and ``columns`` (each a list of lines, or
``{each: model}`` for one line per model the evaluate stage scored), and optionally the figures the paper
published, shown beside ours when the run uses the paper's own model (the ``full`` profile). One renderer
serves every paper, so a new paper's table is a new YAML file, not new code.

A line names what its cells read; a cell reads the union of its row's and its column's keys:
``benchmark`` (an evaluate table name), ``group`` (a row of that table: ``overall (micro)`` by default,
``macro over subjects``, ``subject: X``, ``language: xx``), ``model`` (a column label of the evaluate tables:
``trained`` by default, ``base``, ``pipeline:<name>``, an ``evaluate.models`` name) and ``metric``: ``acc``
(by default, shown in percent as the papers print it), ``parameters`` (the model's parameter count) or a
free-form latency figure (``mean_wall_s``, ``mean_ttft_s``, ``tokens_per_s``); ``lang`` fills a ``{lang}`` in
the benchmark's name (a row per benchmark, a column per language: ``medqa-{lang}``). A line with
``average: true`` is the mean of the accuracy cells of the other lines of its axis (``of``: of these labels).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from statistics import mean
from typing import Any

import yaml

from medadapt.errors import DataError

PAPERS = Path(__file__).with_name("papers")
LATENCY = ("mean_wall_s", "mean_ttft_s", "median_ttft_s", "tokens_per_s")
SELECTOR = ("benchmark", "group", "model", "metric", "lang")


def shipped_papers() -> list[str]:
    return sorted(p.stem for p in PAPERS.glob("*.yaml"))


@cache
def _read(path: Path) -> dict[str, Any]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not {"title", "rows", "columns"} <= set(spec):
        raise DataError("a paper table needs title, rows and columns", file=str(path))
    return spec


def load_paper(name: str, recipe_dir: Path | None = None) -> dict[str, Any]:
    """A shipped table by name, else a YAML file (relative to the recipe's folder)."""
    if name in shipped_papers():
        return _read(PAPERS / f"{name}.yaml")
    path = Path(name) if recipe_dir is None else recipe_dir / name
    if not path.is_file():
        raise DataError(f"no shipped paper table {name!r} (shipped: {', '.join(shipped_papers())}) and no such file",
                        field="report.paper_table")
    return _read(path)


def _models(evaluation: dict[str, Any]) -> list[str]:
    """Every model label the evaluate stage scored, in table order (benchmarks first, then free-form only)."""
    labels: list[str] = []
    for table in evaluation.get("benchmarks") or []:
        labels += [m for m in table["models"] if m not in labels]
    latency = (evaluation.get("freeform") or {}).get("latency") or {}
    return labels + [m for m in latency if m not in labels]


def _lines(axis: Any, models: list[str]) -> list[dict[str, Any]]:
    if isinstance(axis, dict) and axis.get("each") == "model":
        return [{"label": m, "model": m} for m in models]
    return list(axis)


def _value(selector: dict[str, Any], evaluation: dict[str, Any]) -> float | None:
    """The number one cell shows (None where the run has none): accuracy as a fraction, or the raw figure."""
    metric, model = selector.get("metric", "acc"), selector.get("model", "trained")
    tables = {t["name"]: t for t in evaluation.get("benchmarks") or []}
    if metric in LATENCY:
        return ((evaluation.get("freeform") or {}).get("latency") or {}).get(model, {}).get(metric)
    if metric == "parameters":
        counts = [t["parameters"][t["models"].index(model)] for t in tables.values()
                  if model in t["models"] and t.get("parameters")]
        return next((c for c in counts if c is not None), None)
    name = str(selector.get("benchmark", ""))
    table = tables.get(name.replace("{lang}", str(selector["lang"])) if "lang" in selector else name)
    if table is None or model not in table["models"]:
        return None
    group = selector.get("group", "overall (micro)")
    row = next((r for r in table["rows"] if r["group"] == group), None)
    cell = row["cells"][table["models"].index(model)] if row else None
    return cell["acc"] if cell else None


def _shown(value: float | None, metric: str) -> str:
    if value is None:
        return "—"
    if metric == "acc":
        return f"{100 * value:.1f}"
    if metric == "parameters":
        return f"{value / 1e9:.1f}B" if value >= 1e9 else f"{value / 1e6:.0f}M"
    return f"{value:.2f}"


def _published(spec: dict[str, Any], recipe_model: str) -> list[dict[str, Any]]:
    """The paper's own lines when this run uses the paper's model (published figures are shown as printed)."""
    if recipe_model not in spec.get("paper_models", []):
        return []
    return spec.get("published") or []


def paper_table(spec: dict[str, Any], evaluation: dict[str, Any] | None, recipe_model: str) -> dict[str, Any]:
    """``{title, citation, note, header, rows: [[cell, …]], published_shown}`` ready for the templates."""
    evaluation = evaluation or {}
    models = _models(evaluation)
    rows, columns = _lines(spec["rows"], models), _lines(spec["columns"], models)
    grid: list[list[tuple[float | None, str]]] = []
    for row in rows:
        line = []
        for column in columns:
            selector = {key: column.get(key, row.get(key)) for key in SELECTOR if key in row or key in column}
            line.append((_value(selector, evaluation), selector.get("metric", "acc")))
        grid.append(line)
    _fill_averages(grid, rows, columns)
    shown = [[row["label"], *(_shown(v, metric) for v, metric in line)] for row, line in zip(rows, grid)]
    header = [spec.get("corner", ""), *(c["label"] for c in columns)]
    published = _published(spec, recipe_model)
    axis = spec.get("published_axis", "columns")
    for line in published:
        values = line.get("values") or {}
        if axis == "rows":
            shown.append([line["label"], *(_figure(values.get(c["label"])) for c in columns)])
        else:
            header.append(line["label"])
            for cells, row in zip(shown, rows):
                cells.append(_figure(values.get(row["label"])))
    return {"title": spec["title"], "citation": spec.get("citation", ""), "note": spec.get("note", ""),
            "header": header, "rows": shown, "published_shown": bool(published),
            "paper_models": spec.get("paper_models", []) if spec.get("published") else []}


def _figure(value: Any) -> str:
    return "—" if value is None else str(value)


def _fill_averages(grid: list[list[tuple[float | None, str]]], rows: list[dict], columns: list[dict]) -> None:
    """Average lines: the mean of the accuracy cells of the other lines of their axis, or of those ``of`` names
    (None if any is missing, so an average never hides a gap)."""
    def averaged(line: dict, lines: list[dict], cells: list[tuple[float | None, str]]) -> tuple[float | None, str]:
        chosen = [v for other, (v, metric) in zip(lines, cells) if not other.get("average") and metric == "acc"
                  and (not line.get("of") or other["label"] in line["of"])]
        return (mean(chosen) if chosen and None not in chosen else None, "acc")

    for j, column in enumerate(columns):
        if column.get("average"):
            for i in range(len(rows)):
                grid[i][j] = averaged(column, columns, grid[i])
    for i, row in enumerate(rows):
        if row.get("average"):
            for j in range(len(columns)):
                grid[i][j] = averaged(row, rows, [line[j] for line in grid])
