"""What every fuzz test shares: one deterministic hypothesis profile and the property itself.

The property: an input either works, or fails as a :class:`MedadaptError` whose message is one line naming
the file (and row or field), or its bad rows are quarantined each with a one-line reason. Any other
exception is a traceback a user would see, and fails the test with the input that caused it.
"""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any

import typer
from hypothesis import HealthCheck, settings

from medadapt.cli import main as cli_main
from medadapt.errors import MedadaptError

# derandomize: CI sees the same cases every run; no database: nothing written into the repository; no
# deadline: a 2-core CI machine is slow now and then. Each test sets its own max_examples.
FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])

# How many generated inputs each test ran (a session-wide tally printed by the fuzz conftest).
CASES: Counter[str] = Counter()


def shown(value: Any, limit: int = 600) -> str:
    """An input as the failure message shows it: repr, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def assert_one_line_error(exc: MedadaptError, names: tuple[str, ...]) -> None:
    """A medadapt error fit for the CLI's red line: every line of it names where the problem is."""
    lines = exc.one_line().splitlines()
    assert lines, f"{type(exc).__name__} with an empty message"
    for line in lines:
        assert line.strip(), f"blank line in {exc.one_line()!r}"
        assert any(name in line for name in names), f"{line!r} names none of {names}"
    if not hasattr(exc, "problems"):  # a RecipeError lists one problem a line; the others are one line
        assert len(lines) == 1, f"multi-line error: {exc.one_line()!r}"


@contextmanager
def no_traceback(case: str, input_shown: Any, *names: str) -> Iterator[None]:
    """Run the block; a MedadaptError must be one line naming one of ``names``; anything else fails."""
    CASES[case] += 1
    try:
        yield
    except MedadaptError as exc:
        assert_one_line_error(exc, names)
    except AssertionError:
        raise
    except Exception as exc:  # the catch-all: this is the traceback a user would have seen
        raise AssertionError(f"{type(exc).__name__}: {shown(str(exc), 300)}\n  input: {shown(input_shown)}") from exc


def check_rejected(rejected: list[dict[str, Any]], where: str) -> None:
    """Each quarantined row: the one rejected-row shape, a one-line reason naming the file, and writable as
    a JSON line (what the quarantine file will hold)."""
    for entry in rejected:
        missing = {"file", "row", "field", "rule", "reason", "record"} - set(entry)
        assert not missing, f"rejection without {sorted(missing)}: {shown(entry)}"
        reason = entry["reason"]
        assert isinstance(reason, str) and len(reason.splitlines()) == 1, f"reason {reason!r}"
        assert where in reason, f"reason {shown(reason)} does not name {where}"
        json.dumps(entry, ensure_ascii=False).encode("utf-8")


def assert_clean_exit(code: object, out: str, err: str, args: list[str], data: bytes) -> None:
    """Exit 0, or exit 2 with each stderr line an ``error:`` line; a traceback anywhere fails."""
    where = f"\n  command: medadapt {' '.join(args)}\n  input: {shown(data)}\n  stderr: {shown(err, 2000)}"
    assert "Traceback" not in out + err, f"traceback{where}"
    assert code in (0, None, 2), f"exit code {code!r}{where}"
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), f"not one-line errors{where}"


# typer builds its click commands on every call (tens of milliseconds); main() runs this one, built once
COMMAND = typer.main.get_command(cli_main.app)


def run_main(args: list[str], monkeypatch) -> tuple[object, str, str]:
    """``main()`` as the ``medadapt`` script runs it, in this process; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "argv", ["medadapt", *args])
    monkeypatch.setattr(cli_main, "app", COMMAND)
    code: object = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            cli_main.main()
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()
