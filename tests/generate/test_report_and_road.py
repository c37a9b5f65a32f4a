"""The generate stage on the road: `medadapt run` puts it before data, whose source run://generate/… reads
the expanded answers as qa records; the report shows the generate section."""

from __future__ import annotations

import yaml
from generate_helpers import API_KEY, qa_rows, read_jsonl, write_records
from rich.console import Console

from medadapt.recipe import load_recipe
from medadapt.runs import run_stages
from medadapt.stages import stages_for


def test_run_generate_then_data_then_report(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    data = write_records(tmp_path / "qa.jsonl", qa_rows(6) + [{**qa_rows(1)[0], "id": "fr0", "lang": "fr"}])
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump({
        "name": "road", "languages": ["en"], "model": "smollm2-135m",
        "generate": {"backend": {"kind": "openai", "base_url": fake.url, "model": "local-vllm",
                                 "api_key_env": "MEDADAPT_TEST_KEY"},
                     "tasks": [{"task": "expand", "input": str(data), "languages": ["en"]}]},
        "data": {"sources": [{"path": str(data)}, {"path": "run://generate/expand.jsonl", "source": "expanded"}],
                 "dev_fraction": 0.0},
        "report": {},
    }), encoding="utf-8")
    recipe = load_recipe(recipe_path)
    result = run_stages(stages_for(recipe), recipe, recipe_path, tmp_path / "runs", console=Console(quiet=True))
    assert list(result.manifest.stages) == ["generate", "data", "report"]
    chats = read_jsonl(tmp_path / "runs" / "road" / "data" / "stage2_chat.jsonl")
    expanded = [c for c in chats if c["source"] == "expanded"]
    assert len(expanded) == 6 and all("See a doctor" in c["messages"][-1]["content"] for c in expanded)
    report = (tmp_path / "runs" / "road" / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Generated data" in report and "| expand (expand) | 6 | expand: 6 | 0 | 0 |" in report
    assert "- expand: left out, not in the task's languages: fr 1" in report
    html = (tmp_path / "runs" / "road" / "report" / "index.html").read_text(encoding="utf-8")
    assert "left out (not in the task's languages): fr 1" in html


def test_recipe_problems_name_the_generate_field(tmp_path):
    import pytest

    from medadapt.errors import RecipeError

    recipe = {"name": "bad", "languages": ["en"], "model": "smollm2-135m",
              "generate": {"backend": {"kind": "openai", "model": "m"},
                           "tasks": [{"task": "expand", "input": "missing.jsonl"},
                                     {"task": "judge", "input": "x.jsonl", "keep_threshold": 2}]}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    problems = "\n".join(info.value.problems)
    assert "generate.backend: an openai backend needs base_url and model" in problems
    assert "generate.tasks.1.judge.keep_threshold" in problems
    recipe["generate"]["backend"]["base_url"] = "http://127.0.0.1:9/v1"
    recipe["generate"]["tasks"][1]["keep_threshold"] = 0.5
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    with pytest.raises(RecipeError, match="generate.tasks.0.input: file not found: missing.jsonl"):
        load_recipe(path)
