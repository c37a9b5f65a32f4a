"""``medadapt.json``: what an exported model directory needs to be talked to as its run talks to it.

Weights and tokenizer (with the chat template training rendered with) are in the directory already; the
recipe's chat settings (system prompt, answer length, sampling) and languages are not, and a model chatted
with without them answers worse than ``medadapt chat runs/<name>`` does. Export writes this file beside the
model; chat and serve read it when given a model directory. (A train stage's ``train/merged`` needs no copy:
its run's saved recipe.yaml is two folders up, see :func:`medadapt.serve.chat.chat_target`.)
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from medadapt.errors import ModelError
from medadapt.recipe.schema import ChatSection, Recipe
from medadapt.records.jsonl import write_json
from medadapt.strict import StrictModel

MODEL_INFO_FILE = "medadapt.json"


class ModelInfo(StrictModel):
    """The run a model came from and the settings to chat with it."""

    run: str
    base_model: str
    chat_template: str | None = None  # what the recipe named; already installed in the saved tokenizer
    languages: list[str]
    chat: ChatSection
    trust_remote_code: bool = False  # the recipe's opt-in to the model's own code, which loading it needs again

    @classmethod
    def from_recipe(cls, recipe: Recipe) -> ModelInfo:
        return cls(run=recipe.name, base_model=recipe.model, chat_template=recipe.chat_template,
                   languages=recipe.languages, chat=recipe.chat, trust_remote_code=recipe.trust_remote_code)

    def write(self, model_dir: Path) -> Path:
        """``model_dir/medadapt.json``."""
        path = model_dir / MODEL_INFO_FILE
        write_json(path, self.model_dump(mode="json"), final_newline=True)
        return path


def read_model_info(model_dir: Path) -> ModelInfo | None:
    """The directory's ``medadapt.json``, or None when it has none (a model not made by a run)."""
    path = model_dir / MODEL_INFO_FILE
    if not path.is_file():
        return None
    try:
        return ModelInfo.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as exc:
        reason = str(exc).splitlines()[0]
        raise ModelError(f"not a valid {MODEL_INFO_FILE} ({reason}); delete it to use default chat settings",
                         file=str(path)) from None
