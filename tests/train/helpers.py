"""A two-stage train recipe on the tiny model, with its own text and chat files (no data stage)."""

from __future__ import annotations

import json
from pathlib import Path

TEXTS = [
    "The patient has a fever and a headache. Drink water and rest.",
    "Hypertension raises the risk of stroke. Aspirin, insulin, metformin.",
    "بیمار تب و سردرد دارد. آب بنوشید و استراحت کنید.",
    "Which nerve supplies the diaphragm? The phrenic nerve.",
] * 3
CHATS = [
    [{"role": "user", "content": "I have a fever."}, {"role": "assistant", "content": "Drink water and rest."}],
    [{"role": "user", "content": "سردرد دارم"}, {"role": "assistant", "content": "به پزشک مراجعه کنید."},
     {"role": "user", "content": "Is aspirin safe?"}, {"role": "assistant", "content": "Ask a doctor first."}],
] * 4


def write_data(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "text.jsonl").open("w", encoding="utf-8") as handle:
        for i, text in enumerate(TEXTS):
            handle.write(json.dumps({"id": f"t{i}", "source": "test", "lang": "en", "text": text}) + "\n")
    for name, chats in (("chat.jsonl", CHATS), ("chat_dev.jsonl", CHATS[:2])):
        with (directory / name).open("w", encoding="utf-8") as handle:
            for i, messages in enumerate(chats):
                handle.write(json.dumps({"id": f"c{i}", "messages": messages}, ensure_ascii=False) + "\n")


def train_recipe(model_dir: Path, stage1: dict | None = None, stage2: dict | None = None, **train) -> dict:
    """A recipe dict whose train section reads the files of :func:`write_data` (recipe-relative)."""
    common = {"max_steps": 4, "batch_size": 2, "learning_rate": 1e-3, "threads": 1}
    section = {**train}
    if stage1 is not None:
        section["stage1"] = {"input": "text.jsonl", "block_size": 16, "dev_fraction": 0.2, **common, **stage1}
    if stage2 is not None:
        section["stage2"] = {"input": "chat.jsonl", "dev_input": "chat_dev.jsonl", "max_length": 64, **common,
                             **stage2}
    return {"name": "tiny", "languages": ["en", "fa"], "model": str(model_dir), "seed": 0, "train": section}
