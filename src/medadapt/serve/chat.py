"""Multi-turn chat with a trained run or any model: streamed tokens, history kept within the context window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from medadapt.errors import RunError
from medadapt.recipe.schema import ChatSection, Recipe
from medadapt.serve.generation import Generation, Generator, GenParams, StopFlag
from medadapt.serve.safety import Reply, SafetyLayer
from medadapt.train.outputs import trained_model


@dataclass
class ChatTarget:
    """What to load: a model reference, an optional adapter, and the chat settings."""

    model: str
    adapter: Path | None
    settings: ChatSection
    description: str
    languages: list[str] = field(default_factory=list)
    run_dir: Path | None = None


def chat_target(target: str) -> ChatTarget:
    """A run directory (its merged model, or its recipe's model + the trained adapter; its recipe's chat
    settings) or a model reference (alias, local directory, exported model)."""
    path = Path(target)
    if (path / "manifest.json").is_file():
        recipe_file = path / "recipe.yaml"
        if not recipe_file.is_file():
            raise RunError("run directory has no recipe.yaml; re-run the recipe", file=str(path))
        recipe = Recipe.model_validate(yaml.safe_load(recipe_file.read_text(encoding="utf-8")))
        model, adapter = trained_model(path / "train", recipe.model)
        description = f"{model} + adapter from {path}" if adapter else model
        return ChatTarget(model, adapter, recipe.chat, description, recipe.languages, path)
    return ChatTarget(target, None, ChatSection(), target)


def _closing(generation: Generation) -> Iterator[str]:
    try:
        yield from generation
    finally:
        generation.close()


def gen_params(settings: ChatSection) -> GenParams:
    return GenParams(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature, top_p=settings.top_p,
                     repetition_penalty=settings.repetition_penalty)


class ChatSession:
    """A conversation: history kept within the context window, each answer streamed through the safety layer
    (``safety=None`` turns it off)."""

    def __init__(self, model: Any, tokenizer: Any, settings: ChatSection, safety: SafetyLayer | None = None):
        self.generator = Generator(model, tokenizer)
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.safety = safety
        self.system_prompt = settings.system_prompt
        self.history: list[dict[str, str]] = []
        self.last_reply: Reply | None = None

    @property
    def context_window(self) -> int:
        return self.generator.context_window

    @context_window.setter
    def context_window(self, value: int) -> None:
        self.generator.context_window = value

    def reset(self) -> None:
        self.history = []

    def messages(self) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return system + self.history

    def _prompt_ids(self) -> list[int]:
        return self.generator.prompt_ids(self.messages())

    def _fit_history(self) -> int:
        """Drop the oldest exchanges until prompt + answer fit the context window; return how many went."""
        budget = self.context_window - self.settings.max_new_tokens
        dropped = 0
        while len(self.history) > 1 and len(self._prompt_ids()) > budget:
            self.history = self.history[2:]  # one user turn and its answer
            dropped += 1
        return dropped

    def reply(self, user_text: str, on_token: Callable[[str], None], stop: StopFlag | None = None,
              on_trim: Callable[[int], None] | None = None) -> str:
        """Generate the assistant's answer to ``user_text``, streaming pieces to ``on_token``; Ctrl-C
        (KeyboardInterrupt) stops the answer and keeps what was said so far."""
        self.history.append({"role": "user", "content": user_text})
        dropped = self._fit_history()
        if dropped and on_trim:
            on_trim(dropped)
        stop = stop or StopFlag()
        params = gen_params(self.settings)
        if self.safety is not None:
            reply = self.safety.respond(self.generator, self.messages(), params, stop)
        else:
            generation = self.generator.stream(self.messages(), params, stop)
            reply = Reply(_pieces=_closing(generation))
        self.last_reply = reply
        pieces = reply.pieces()
        try:
            for piece in pieces:
                on_token(piece)
        except KeyboardInterrupt:
            stop.set()
            pieces.close()
        answer = reply.text.strip()
        self.history.append({"role": "assistant", "content": answer})
        return answer
