"""Multi-turn chat with a trained run or any model: streamed tokens, history kept within the context window."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medadapt.errors import RunError
from medadapt.recipe.schema import ChatSection, Recipe


@dataclass
class ChatTarget:
    """What to load: a model reference, an optional adapter, and the chat settings."""

    model: str
    adapter: Path | None
    settings: ChatSection
    description: str


def chat_target(target: str) -> ChatTarget:
    """A run directory (its recipe's model + the trained adapter) or a model reference."""
    path = Path(target)
    if (path / "manifest.json").is_file():
        recipe_file = path / "recipe.yaml"
        if not recipe_file.is_file():
            raise RunError("run directory has no recipe.yaml; re-run the recipe", file=str(path))
        recipe = Recipe.model_validate(yaml.safe_load(recipe_file.read_text(encoding="utf-8")))
        adapter = path / "train" / "adapter"
        if not adapter.is_dir():
            raise RunError("no trained adapter in this run (train/adapter); run the train stage first", file=str(path))
        return ChatTarget(recipe.model, adapter, recipe.chat, f"{recipe.model} + adapter from {path}")
    return ChatTarget(target, None, ChatSection(), target)


class StopFlag:
    """A stopping criterion the user can trip (Ctrl-C) while generation runs in another thread."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, input_ids, scores, **kwargs) -> bool:
        return self.event.is_set()


class ChatSession:
    def __init__(self, model: Any, tokenizer: Any, settings: ChatSection):
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.system_prompt = settings.system_prompt
        self.history: list[dict[str, str]] = []
        self.context_window = getattr(model.config, "max_position_embeddings", 2048)

    def reset(self) -> None:
        self.history = []

    def messages(self) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return system + self.history

    def _fit_history(self) -> int:
        """Drop the oldest exchanges until prompt + answer fit the context window; return how many turns went."""
        budget = self.context_window - self.settings.max_new_tokens
        dropped = 0
        while len(self.history) > 1 and len(self._prompt_ids()) > budget:
            self.history = self.history[2:]  # one user turn and its answer
            dropped += 1
        return dropped

    def _stop_token_ids(self) -> list[int]:
        """The template's end-of-turn token (the tokenizer's eos) and the model's own end-of-text ids."""
        own = self.model.generation_config.eos_token_id
        own = own if isinstance(own, list) else [own] if own is not None else []
        return sorted({self.tokenizer.eos_token_id, *own} - {None})

    def _prompt_ids(self) -> list[int]:
        text = self.tokenizer.apply_chat_template(self.messages(), tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def reply(self, user_text: str, on_token: Callable[[str], None], stop: StopFlag | None = None,
              on_trim: Callable[[int], None] | None = None) -> str:
        """Generate the assistant's answer to ``user_text``, streaming pieces to ``on_token``."""
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        self.history.append({"role": "user", "content": user_text})
        dropped = self._fit_history()
        if dropped and on_trim:
            on_trim(dropped)
        input_ids = torch.tensor([self._prompt_ids()], device=self.model.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = stop or StopFlag()
        s = self.settings
        kwargs = dict(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), streamer=streamer,
            max_new_tokens=s.max_new_tokens, do_sample=s.temperature > 0, repetition_penalty=s.repetition_penalty,
            stopping_criteria=StoppingCriteriaList([stop]), pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self._stop_token_ids(),
        )
        if s.temperature > 0:
            kwargs.update(temperature=s.temperature, top_p=s.top_p)
        worker = threading.Thread(target=self.model.generate, kwargs=kwargs, daemon=True)
        worker.start()
        pieces = []
        try:
            for piece in streamer:
                pieces.append(piece)
                on_token(piece)
        except KeyboardInterrupt:
            stop.event.set()
            for piece in streamer:  # drain what was produced before the stop took effect
                pieces.append(piece)
        worker.join()
        answer = "".join(pieces).strip()
        self.history.append({"role": "assistant", "content": answer})
        return answer
