"""Helpers for the generate tests: records, recipes, running the command, reading outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

API_KEY = "sk-test-SECRET-1234567890"


def write_records(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def qa_rows(n: int, lang: str = "en") -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "source": "test", "lang": lang, "question": f"What helps fever number {i}?",
             "answer": f"Rest and water {i}."} for i in range(n)]


def write_recipe(folder: Path, url: str, tasks: list[dict[str, Any]], **backend: Any) -> Path:
    recipe = {
        "name": "gen", "languages": ["en", "fa"], "model": "smollm2-135m",
        "generate": {"backend": {"kind": "openai", "base_url": url, "model": "gpt-4o-mini",
                                 "api_key_env": "MEDADAPT_TEST_KEY", "concurrency": 4, "retry_backoff_s": 0.01,
                                 "timeout_s": 2, **backend},
                     "max_new_tokens": 128, "tasks": tasks},
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path


def run_generate(recipe: Path, runs: Path, *args: str) -> int:
    """``medadapt generate RECIPE`` in-process; its exit code as ``main`` gives it (the error's own: 2 for a
    one-line error, 3 for a spent budget)."""
    from typer.testing import CliRunner

    from medadapt.cli.main import app
    from medadapt.errors import MedadaptError

    result = CliRunner().invoke(app, ["generate", str(recipe), "--runs-dir", str(runs), *args])
    if isinstance(result.exception, MedadaptError):
        return result.exception.exit_code
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
