"""One exception type per failure family.

Each carries where the problem is (file, row, field, URL) so that the CLI can print one line a user can act
on, instead of a traceback.
"""

from __future__ import annotations

import re
from typing import ClassVar

_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")  # what str.splitlines splits on


def single_line(text: str) -> str:
    """``text`` with its line breaks joined by spaces: a library's multi-line message, or a column name
    with a newline in it, must not split the one line an error or a quarantine reason is."""
    return _LINE_BREAKS.sub(" ", text).strip()


class MedadaptError(Exception):
    """Base of every error the CLI turns into one red line and exit code 2."""

    #: the CLI's exit code and the word before the message; a clean stop (a spent budget) has its own
    exit_code: ClassVar[int] = 2
    label: ClassVar[str] = "error"

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, field: str | None = None):
        self.message = message
        self.file = file
        self.row = row
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """File, row, field and message on one line (the CLI prints each line as an error of its own)."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(self.field)
        return single_line(": ".join([*where, self.message]))


class RecipeError(MedadaptError):
    """A recipe that cannot be read or validated. Holds every problem found, not just the first."""

    def __init__(self, file: str, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems), file=file)

    def one_line(self) -> str:
        return "\n".join(single_line(f"{self.file}: {p}") for p in self.problems)


class DataError(MedadaptError):
    """Input data that cannot be read at all (a missing file, an unreadable format)."""


class ModelError(MedadaptError):
    """A model reference that cannot be resolved or loaded."""


class RunError(MedadaptError):
    """A run directory that is missing or inconsistent."""
