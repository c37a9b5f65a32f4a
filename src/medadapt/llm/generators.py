"""The one way chat, serve and free-form evaluation load a model to stream from: a ``.gguf`` file through
llama.cpp (``LlamaCppGenerator``), anything else (alias, directory, hub id, + adapter) through transformers
(``Generator``). Both stream the same way, so nothing downstream asks which it got."""

from __future__ import annotations

from pathlib import Path

from medadapt.errors import ModelError
from medadapt.llm.llamacpp import LlamaCppGenerator, is_gguf
from medadapt.llm.streaming import Generator
from medadapt.models.templates import ChatTemplate


def load_generator(reference: str, adapter: Path | None = None, chat_template: ChatTemplate | None = None,
                   model_id: str = "medadapt", trust_remote_code: bool = False) -> Generator | LlamaCppGenerator:
    """A loaded model ready to ``stream``; ``chat_template`` replaces the model's own (for one without);
    ``trust_remote_code``: the recipe's key (transformers models only)."""
    if is_gguf(reference):
        if adapter is not None:
            raise ModelError("a GGUF file takes no adapter: export the run (it merges the adapter) and convert that",
                             file=reference)
        return LlamaCppGenerator(reference, model_id, chat_template)
    from medadapt.models.chat import load_chat_model

    model, tokenizer = load_chat_model(reference, adapter, chat_template, trust_remote_code)
    return Generator(model, tokenizer, model_id)
