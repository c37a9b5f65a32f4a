"""Multi-turn chat with a trained run or any model: streamed tokens, history kept within the context window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from medadapt.llm.llamacpp import LlamaCppGenerator, is_gguf
from medadapt.llm.streaming import Generator, GenParams, StopFlag
from medadapt.serve.model_info import MODEL_INFO_FILE, ModelInfo, read_model_info
from medadapt.recipe import load_run_recipe
from medadapt.recipe.schema import ChatSection
from medadapt.serve.respond import respond
from medadapt.serve.safety import Reply, SafetyLayer
from medadapt.runs.outputs import trained_model


@dataclass
class ChatTarget:
    """What to load: a model reference, an optional adapter, and the chat settings (``info``: from the run that
    made the model; None for a model no run made). ``note`` says plainly what is used when no run says."""

    model: str
    adapter: Path | None
    settings: ChatSection
    description: str
    languages: list[str] = field(default_factory=list)
    run_dir: Path | None = None
    info: ModelInfo | None = None
    note: str | None = None

    @property
    def trust_remote_code(self) -> bool:
        """The run's opt-in to the model's own code (off for a model no run made)."""
        return self.info is not None and self.info.trust_remote_code


def chat_target(target: str, chat_template: str | None = None) -> ChatTarget:
    """A run directory (its merged model, or its recipe's model + the trained adapter; its recipe's chat
    settings), a model directory a run made (the settings in its ``medadapt.json``), or any other model
    reference (alias, local directory, hub id: its own template unless ``chat_template``, default settings)."""
    path = Path(target)
    if (path / "manifest.json").is_file():
        recipe = load_run_recipe(path)
        model, adapter = trained_model(path / "train", recipe.model)
        description = f"{model} + adapter from {path}" if adapter else model
        info = ModelInfo.from_recipe(recipe)
        return ChatTarget(model, adapter, info.chat.model_copy(), description, info.languages, path, info)
    info = read_model_info(path) if path.is_dir() else read_model_info(path.parent) if is_gguf(path) else None
    if info is not None:
        return ChatTarget(target, None, info.chat.model_copy(), f"{target} (run {info.run}: its chat settings from "
                          f"{MODEL_INFO_FILE})", info.languages, info=info)
    if (run := _run_of(path)) is not None:
        info = ModelInfo.from_recipe(load_run_recipe(run))
        return ChatTarget(target, None, info.chat.model_copy(), f"{target} (run {info.run}: its chat settings from "
                          f"{run / 'recipe.yaml'})", info.languages, info=info)
    settings = ChatSection()
    template = f"the {chat_template} chat template" if chat_template else "the model's own chat template"
    note = (f"{target} has no {MODEL_INFO_FILE} (not made by a run): using {template} and default chat settings "
            f"(no system prompt, up to {settings.max_new_tokens} new tokens, temperature {settings.temperature})")
    return ChatTarget(target, None, settings, target, note=note)


def _run_of(model_dir: Path) -> Path | None:
    """The run directory a train stage's model folder (``runs/<name>/train/merged`` or ``…/train/model``) lies
    in: its saved recipe holds the settings the run chats with (the train stage does not read them, so a
    copy beside the model would go stale, or re-train the model each time they change)."""
    train = model_dir.resolve().parent
    if model_dir.is_dir() and train.name == "train" and (train.parent / "manifest.json").is_file():
        return train.parent
    return None


def gen_params(settings: ChatSection) -> GenParams:
    return GenParams(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature, top_p=settings.top_p,
                     repetition_penalty=settings.repetition_penalty)


class ChatSession:
    """A conversation: history kept within the context window, each answer streamed through the safety layer
    (``safety=None`` turns it off)."""

    def __init__(self, generator: Generator | LlamaCppGenerator, settings: ChatSection,
                 safety: SafetyLayer | None = None):
        self.generator = generator
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
        reply = respond(self.generator, self.messages(), params, stop, self.safety)
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
