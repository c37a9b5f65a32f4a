"""``medadapt export RUN --to DIR``: a merged model directory that loads and matches base + adapter, a model
card from the run's files (GGUF files and the Modelfile: test_gguf.py, test_modelfile.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A run directory as the stages leave it: manifest, recipe, data stats, a LoRA adapter, results."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run = tmp_path_factory.mktemp("runs") / "tiny-med"
    (run / "data").mkdir(parents=True)
    (run / "evaluate" / "mmlu-fa-anatomy").mkdir(parents=True)
    recipe = {"name": "tiny-med", "languages": ["fa", "en"], "model": str(tiny_model_dir), "chat_template": None,
              "train": {"stage2": {"method": "lora", "lora": {"r": 4, "alpha": 8}, "max_steps": 3,
                                   "learning_rate": 0.001}},
              "report": {"title": "Tiny medical test model"}}
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps({"name": "tiny-med", "recipe_hash": "ab" * 32,
                                                   "versions": {"medadapt": "0.1.0", "torch": torch.__version__},
                                                   "stages": {}}))
    (run / "data" / "stats.json").write_text(json.dumps({
        "train": 120, "dev": 12, "rejected": 3, "by_lang": {"fa": 80, "en": 40},
        "by_source": {"gaokerena-mf3qa": 80, "kqa": 30, "clinic-notes": 10}}))
    (run / "evaluate" / "mmlu-fa-anatomy" / "results.json").write_text(json.dumps({
        "benchmark": "mmlu-fa-anatomy", "n": 135, "pass_mark": 0.36,
        "models": {"base": {"acc": 0.25, "stderr": 0.037}, "trained": {"acc": 0.3111, "stderr": 0.04}}}))
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False))
    adapter = run / "train" / "adapter"
    lora.save_pretrained(adapter)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(adapter)
    (run / "train" / "summary.json").write_text(json.dumps({"steps": 3, "train_loss": 4.2, "total_parameters": 61234}))
    return run


def test_export_writes_a_merged_model_and_a_model_card(run_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from medadapt.models.loading import load_for_inference

    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["export", str(run_dir), "--to", str(out), "--licence", "clinic-notes=internal use only"])
    assert result.exit_code == 0, result.output
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert not (out / "adapter_config.json").exists()
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.chat_template
    exported = AutoModelForCausalLM.from_pretrained(out)
    base_model = yaml.safe_load((run_dir / "recipe.yaml").read_text())["model"]
    reference, _ = load_for_inference(base_model, run_dir / "train" / "adapter")
    ids = torch.tensor([tokenizer("The patient has a fever")["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(exported(ids).logits, reference(ids).logits, atol=1e-4)

    card = (out / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "base_model:" in card and "- medical" in card
    assert "# Tiny medical test model" in card
    assert "| gaokerena-mf3qa | 80 | CC BY-NC-SA 4.0 (non-commercial) |" in card
    assert "| kqa | 30 | MIT |" in card and "| clinic-notes | 10 | internal use only |" in card
    assert "By language: fa 80, en 40." in card
    assert "| lora.r | 4 |" in card and "| learning_rate | 0.001 |" in card
    assert "| mmlu-fa-anatomy | 135 | 25.0 % ± 3.7 | 31.1 % ± 4.0 | 36 % |" in card
    assert "## Intended use" in card and "## Limits" in card and "Not a medical device" in card
    assert (out / "medadapt" / "recipe.yaml").is_file() and (out / "medadapt" / "stats.json").is_file()
    assert (out / "medadapt" / "evaluate" / "mmlu-fa-anatomy" / "results.json").is_file()

    again = CliRunner().invoke(app, ["export", str(run_dir), "--to", str(out)])
    assert again.exit_code != 0 and "--force" in str(again.exception or again.output)


def test_exported_directory_chats_and_serves_as_a_model(run_dir, tmp_path):
    from medadapt.serve.chat import chat_target

    out = tmp_path / "export"
    assert CliRunner().invoke(app, ["export", str(run_dir), "--to", str(out)]).exit_code == 0
    spec = chat_target(str(out))
    assert spec.model == str(out) and spec.adapter is None


def test_export_copies_the_train_stage_merged_model(run_dir, tmp_path):
    import shutil

    from medadapt.serve.export import export_run

    run = tmp_path / "run-with-merged"
    shutil.copytree(run_dir, run)
    first = tmp_path / "first"
    export_run(run, first, log=lambda _: None)
    shutil.copytree(first, run / "train" / "merged", ignore=shutil.ignore_patterns("README.md", "medadapt"))
    messages: list[str] = []
    export_run(run, tmp_path / "second", log=messages.append)
    assert messages and "copying the merged model" in messages[0]
    assert (tmp_path / "second" / "model.safetensors").read_bytes() == (first / "model.safetensors").read_bytes()


def test_export_of_something_that_is_not_a_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "medadapt.cli", "export", str(tmp_path), "--to", str(tmp_path / "x")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "not a run directory" in done.stderr
