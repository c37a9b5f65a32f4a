"""Chats dropped for having no assistant token within ``max_length`` (issue 21, item 8: "202 chats dropped …
show up only in train/rejected.jsonl"): a loss up to ``max_dropped_fraction`` is printed with the fix, a larger
one refuses to train, in one line, before any model is loaded."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from helpers import CHATS, run_train, train_recipe
from medadapt.errors import DataError

#: helpers.CHATS alternate two chats whose first assistant token is at position 56 and 54 of the tiny model's
#: rendering: max_length 55 drops the first kind, half of chat.jsonl and of chat_dev.jsonl
HALF_DROPPED = 55


def test_a_partial_loss_is_printed_with_its_count_and_the_fix(tmp_path, tiny_model_dir):
    console = Console(record=True, width=300)
    out = run_train(tmp_path, train_recipe(tiny_model_dir, stage2={"max_steps": 1, "max_length": HALF_DROPPED}),
                    console=console)
    text = console.export_text()
    reason = f"no assistant token within max_length={HALF_DROPPED}"
    assert f"chat.jsonl: 4 of 8 chats dropped (50%): {reason}" in text
    assert f"chat_dev.jsonl: 1 of 2 dev chats dropped (50%): {reason}" in text
    assert "raise train.stage2.max_length to keep them" in text
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["train_examples"], summary["dev_examples"], summary["rejected"]) == (4, 1, 5)
    assert len((out / "rejected.jsonl").read_text().splitlines()) == 5


NONE_LEFT = "8 of 8 chats dropped (100%): no assistant token within max_length=50, none left to train on; raise " \
    "train.stage2.max_length"
TOO_MANY = (f"4 of 8 chats dropped (50%): no assistant token within max_length={HALF_DROPPED}; raise "
            "train.stage2.max_length, or set train.stage2.max_dropped_fraction above 0.4 to accept the loss")


@pytest.mark.parametrize("stage2, message", [
    ({"max_length": 50}, NONE_LEFT),
    ({"max_length": 50, "max_dropped_fraction": 1.0}, NONE_LEFT),  # accepting any loss still needs a chat
    ({"max_length": HALF_DROPPED, "max_dropped_fraction": 0.4}, TOO_MANY),
])
def test_losing_more_than_the_threshold_fails_in_one_line(tmp_path, tiny_model_dir, stage2, message):
    with pytest.raises(DataError) as error:
        run_train(tmp_path, train_recipe(tiny_model_dir, stage1={}, stage2=stage2))
    line = error.value.one_line()
    assert line.startswith(f"{tmp_path / 'chat.jsonl'}: messages: {message}") and "\n" not in line
    assert not (tmp_path / "runs/tiny/train-state/stage1").exists()  # refused before stage 1 trained


def test_more_than_half_dropped_fails_by_default(tmp_path, tiny_model_dir):
    """The real run's case: most chats longer than max_length, with no threshold set."""
    (tmp_path / "long.jsonl").write_text("".join(json.dumps({"id": f"c{i}", "messages": CHATS[i == 3]}) + "\n"
                                                 for i in range(4)), encoding="utf-8")  # 3 of the dropped kind
    with pytest.raises(DataError) as error:
        run_train(tmp_path, train_recipe(tiny_model_dir, stage2={"input": "long.jsonl", "max_length": HALF_DROPPED}))
    assert error.value.one_line().startswith(f"{tmp_path / 'long.jsonl'}: messages: 3 of 4 chats dropped (75%): "
                                             f"no assistant token within max_length={HALF_DROPPED}; raise")
    assert "max_dropped_fraction above 0.5 to accept the loss" in error.value.one_line()


def test_an_empty_chat_file_is_refused(tmp_path, tiny_model_dir):
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(DataError) as error:
        run_train(tmp_path, train_recipe(tiny_model_dir, stage2={"input": "empty.jsonl"}))
    assert error.value.one_line() == f"{tmp_path / 'empty.jsonl'}: messages: no chats to train on"
