"""The terminal table every evaluation kind prints: an ``overall`` row, then one row per group (subject,
source, language…), each row's cells made by the kind from its figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table


def grouped_table(title: str, columns: tuple[str, ...], figures: dict[str, Any], groups: tuple[str, ...],
                  cells: Callable[[dict[str, Any]], list[str]]) -> Table:
    """``columns`` after the first ("group") are right-aligned; ``groups`` name the ``by_<group>`` mappings of
    ``figures`` shown after the overall row, labelled ``<group>: <key>``."""
    table = Table(title=title)
    for column in ("group", *columns):
        table.add_column(column, justify="left" if column == "group" else "right")
    table.add_row("overall", *cells(figures))
    for group in groups:
        for key, value in figures[f"by_{group}"].items():
            table.add_row(f"{group}: {key}", *cells(value))
    return table
