"""``medadapt chat DIR`` / ``serve DIR`` on a model directory (issue 21, failure 6): a train stage's
``train/merged`` talks with its run's chat settings, an export carries them in ``medadapt.json``, and any
other model says in one line what it uses."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.errors import ModelError
from medadapt.serve.chat import chat_target
from medadapt.serve.model_info import MODEL_INFO_FILE, read_model_info

SYSTEM = "You are a careful medical assistant."  # the preset_run recipe's chat.system_prompt


def saved_conversation(target, tmp_path, *options: str) -> tuple[str, dict]:
    """Chat once with ``target`` and /save: (the command's output, the saved conversation)."""
    saved = tmp_path / "conversation.json"
    result = CliRunner().invoke(app, ["chat", str(target), "--rtl", "logical", *options],
                                input=f"I have a fever\n/save {saved}\n/exit\n")
    assert result.exit_code == 0, result.output
    return result.output, json.loads(saved.read_text(encoding="utf-8"))


def test_the_train_stages_merged_model_chats_with_the_runs_settings(preset_run, tmp_path):
    spec = chat_target(str(preset_run / "train" / "merged"))
    assert spec.settings.system_prompt == SYSTEM and spec.settings.max_new_tokens == 3
    assert spec.languages == ["en"] and spec.note is None and "run preset-run" in spec.description
    output, conversation = saved_conversation(preset_run / "train" / "merged", tmp_path)
    assert conversation["messages"][0] == {"role": "system", "content": SYSTEM}
    assert MODEL_INFO_FILE not in output  # nothing to warn about


def test_an_export_carries_the_settings_away_from_its_run(preset_run, tmp_path):
    out = tmp_path / "export"
    assert CliRunner().invoke(app, ["export", str(preset_run), "--to", str(out)]).exit_code == 0
    moved = tmp_path / "elsewhere" / "model"
    shutil.copytree(out, moved)  # no run directory near it any more
    info = read_model_info(moved)
    assert info.run == "preset-run" and info.chat.system_prompt == SYSTEM and info.languages == ["en"]
    assert chat_target(str(moved)).settings.max_new_tokens == 3
    _, conversation = saved_conversation(moved, tmp_path)
    assert conversation["messages"][0] == {"role": "system", "content": SYSTEM}


def test_serve_on_a_model_directory_uses_the_runs_system_prompt(preset_run, monkeypatch):
    import medadapt.serve.server as server

    seen = {}
    monkeypatch.setattr(server, "create_app", lambda generator, config, layer: seen.update(config=config))
    monkeypatch.setattr(server, "run_server", lambda *args: None)
    result = CliRunner().invoke(app, ["serve", str(preset_run / "train" / "merged")])
    assert result.exit_code == 0, result.output
    assert seen["config"].system_prompt == SYSTEM and seen["config"].default_max_tokens == 3


def test_a_model_no_run_made_says_what_it_uses(tiny_model_dir, tmp_path):
    output, conversation = saved_conversation(tiny_model_dir, tmp_path)
    assert (f"{tiny_model_dir} has no {MODEL_INFO_FILE} (not made by a run): using the model's own chat template "
            "and default chat settings (no system prompt, up to 256 new tokens, temperature 0.7)") in output
    assert conversation["messages"][0]["role"] == "user"
    output, _ = saved_conversation(tiny_model_dir, tmp_path, "--chat-template", "chatml")
    assert "using the chatml chat template and default chat settings" in output


def test_a_broken_medadapt_json_is_one_line(tiny_model_dir, tmp_path, monkeypatch, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    (model / MODEL_INFO_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=f"not a valid {MODEL_INFO_FILE}"):
        read_model_info(model)
    from medadapt.cli.main import main

    monkeypatch.setattr(sys, "argv", ["medadapt", "chat", str(model)])
    with pytest.raises(SystemExit) as done:
        main()
    err = capsys.readouterr().err
    assert done.value.code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"not a valid {MODEL_INFO_FILE}" in err and "delete it to use default chat settings" in err
