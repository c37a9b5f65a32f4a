"""Chat tokenisation: a tokenizer ready to render chats (its template installed and checked, a pad token),
and a conversation tokenised with that template with its assistant tokens marked.

Why not TRL's ``assistant_only_loss``: it needs ``{% generation %}`` markers in the template, which most
templates (SmolLM2's included) lack. Instead each assistant turn's character span is found by rendering
the conversation up to that turn twice, with and without the turn, and tokens are marked through the
tokenizer's offset mapping. The loss then covers exactly what the model must produce at inference: the
assistant's text and the template's end-of-turn markup, nothing of the system or user turns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.errors import DataError
from medadapt.models.loading import load_for_inference, remote_code
from medadapt.models.registry import resolve_model
from medadapt.models.templates import ChatTemplate, load_chat_template, prepare_chat_tokenizer


def load_chat_tokenizer(model_ref: str, chat_template: str | None, recipe_dir: Path | None = None,
                        trust_remote_code: bool = False) -> Any:
    """The model's tokenizer as training and the data stage render chats with it: ``chat_template`` (a shipped
    name or a YAML file relative to ``recipe_dir``) installed, else the model's own checked; pad = eos when
    unset, after the template's end-of-turn token is in place. ``trust_remote_code``: the recipe's key."""
    from transformers import AutoTokenizer

    source = resolve_model(model_ref)
    tokenizer = AutoTokenizer.from_pretrained(source, **remote_code(source, trust_remote_code))
    return prepare_chat_tokenizer(tokenizer, load_chat_template(chat_template, recipe_dir), model_ref)


def load_chat_model(reference: str, adapter: Path | None = None, chat_template: ChatTemplate | None = None,
                    trust_remote_code: bool = False) -> tuple[Any, Any]:
    """(model, tokenizer) for chatting, as chat, serve, the local backend and free-form evaluation load them:
    :func:`load_for_inference`, then the template installed. Its pad token stays the model's own eos, set
    before a template replaces the end-of-turn token (unlike :func:`load_chat_tokenizer`)."""
    model, tokenizer = load_for_inference(reference, adapter, trust_remote_code)
    prepare_chat_tokenizer(tokenizer, chat_template, reference)
    return model, tokenizer


def _render(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def assistant_spans(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant turns."""
    full = _render(tokenizer, messages)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], add_generation_prompt=True)
        through = _render(tokenizer, messages[: i + 1])
        if not (full.startswith(before) and full.startswith(through) and len(through) > len(before)):
            raise DataError(
                "the chat template does not render conversations as growing prefixes; cannot locate the "
                f"assistant turn {i}"
            )
        spans.append((len(before), len(through)))
    return full, spans


def tokenize_chat(tokenizer: Any, messages: list[dict[str, str]], max_length: int | None = None) -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` (1 on assistant tokens) for one conversation, truncated at the end."""
    text, spans = assistant_spans(tokenizer, messages)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = [
        int(any(begin <= start < end for begin, end in spans)) if end_tok > start else 0
        for start, end_tok in encoded["offset_mapping"]
    ]
    input_ids = list(encoded["input_ids"])
    if max_length is not None:
        input_ids, mask = input_ids[:max_length], mask[:max_length]
    return {"input_ids": input_ids, "assistant_masks": mask}
