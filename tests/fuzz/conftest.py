"""The fuzz suite's tally: how many generated inputs each kind of test ran, printed after the run."""

from __future__ import annotations

from fuzz_helpers import CASES


def pytest_terminal_summary(terminalreporter) -> None:
    if CASES:
        terminalreporter.write_sep("-", f"fuzz: {sum(CASES.values())} generated inputs")
        for case, count in sorted(CASES.items()):
            terminalreporter.write_line(f"  {count:5d}  {case}")
