"""``--help`` never cuts an option name, at any terminal width (issue 21: ``--translator-ke…`` at 80 columns)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from medadapt.cli.main import HELP_MIN_WIDTH, app


def _commands(command, path: list[str]):
    """(argv to the command, the command) for every leaf command of the app."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            if not sub.hidden:
                yield from _commands(sub, [*path, name])
    else:
        yield path, command


COMMANDS = list(_commands(typer.main.get_command(app), []))


def test_help_is_never_narrower_than_the_minimum():
    assert typer.rich_utils.MAX_WIDTH >= HELP_MIN_WIDTH


def test_eval_mcqa_help_shows_translator_key_env_whole():
    result = CliRunner().invoke(app, ["eval", "mcqa", "--help"])
    assert result.exit_code == 0
    assert re.search(r"--translator-key-env(?![\w-])", result.output) and "--translator-ke…" not in result.output


@pytest.mark.parametrize("argv, command", COMMANDS, ids=[" ".join(argv) for argv, _ in COMMANDS])
def test_every_option_name_is_shown_whole(argv, command):
    result = CliRunner().invoke(app, [*argv, "--help"])
    assert result.exit_code == 0, result.output
    names = [name for param in command.params for name in (*param.opts, *param.secondary_opts) if name.startswith("--")]
    cut = [name for name in names if not re.search(re.escape(name) + r"(?![\w-])", result.output)]
    assert not cut, f"cut in `medadapt {' '.join(argv)} --help`: {cut}"
