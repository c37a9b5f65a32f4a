"""One exception type per failure family.

Each carries where the problem is (file, row, field, URL) so that the CLI can print one line a user can act
on, instead of a traceback.
"""

from __future__ import annotations


class MedadaptError(Exception):
    """Base of every error the CLI turns into one red line and exit code 2."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, field: str | None = None):
        self.message = message
        self.file = file
        self.row = row
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(self.field)
        return ": ".join([*where, self.message])


class RecipeError(MedadaptError):
    """A recipe that cannot be read or validated. Holds every problem found, not just the first."""

    def __init__(self, file: str, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems), file=file)

    def one_line(self) -> str:
        return "\n".join(f"{self.file}: {p}" for p in self.problems)


class DataError(MedadaptError):
    """Input data that cannot be read at all (a missing file, an unreadable format)."""


class ModelError(MedadaptError):
    """A model reference that cannot be resolved or loaded."""


class RunError(MedadaptError):
    """A run directory that is missing or inconsistent."""
