"""Chats measured and checked with the model's own tokenizer and chat template.

* ``render_parity_problems``: training (``models.chat.tokenize_chat``) and inference (``serve.chat``:
  ``apply_chat_template(..., add_generation_prompt=True)`` then tokenised) must give identical token ids for
  the prompt of every assistant turn; a template that differs is the field's most reported failure (models
  that never stop or answer garbage).
* ``apply_cutoff``: the policy for chats longer than ``cutoff_len`` tokens (drop, truncate the last
  assistant turn, or split a multi-turn chat into shorter chats), with counts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from medadapt.models.chat import tokenize_chat
from medadapt.records.kinds import ChatRecord, Message
from medadapt.records.quarantine import rejection

TruncationPolicy = Literal["drop", "truncate_last", "split"]


def _dicts(messages: list[Message]) -> list[dict[str, str]]:
    return [m.model_dump() for m in messages]


def inference_prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """The ids chat inference feeds the model before it answers (as ``serve.chat`` builds them)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def render_parity_problems(tokenizer: Any, chat: ChatRecord) -> list[str]:
    """Where training's token ids for the conversation differ from inference's prompt ids, one line each."""
    messages = _dicts(chat.messages)
    trained = tokenize_chat(tokenizer, messages)["input_ids"]
    problems = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = inference_prompt_ids(tokenizer, messages[:i])
        if trained[: len(prompt)] != prompt:
            at = next((k for k, (a, b) in enumerate(zip(trained, prompt)) if a != b), min(len(trained), len(prompt)))
            problems.append(f"{chat.id}: turn {i}: training and inference token ids differ from position {at} "
                            f"(training {tokenizer.decode(trained[at:at + 5])!r}, inference "
                            f"{tokenizer.decode(prompt[at:at + 5])!r})")
    return problems


def chat_tokens(tokenizer: Any, chat: ChatRecord) -> int:
    return len(tokenize_chat(tokenizer, _dicts(chat.messages))["input_ids"])


def _truncate_last(tokenizer: Any, chat: ChatRecord, cutoff_len: int) -> ChatRecord | None:
    """The chat with its last assistant turn cut (at a character boundary) so that it fits, or None."""
    last = max(i for i, m in enumerate(chat.messages) if m.role == "assistant")
    head = chat.messages[:last]
    content = chat.messages[last].content

    def fits(n: int) -> bool:
        messages = [*head, Message(role="assistant", content=content[:n])]
        return len(tokenize_chat(tokenizer, _dicts(messages))["input_ids"]) <= cutoff_len

    low, high = 0, len(content)  # the longest prefix that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    if not content[:low].strip():
        return None
    return chat.model_copy(update={"messages": [*head, Message(role="assistant", content=content[:low].rstrip())]})


def _split(tokenizer: Any, chat: ChatRecord, cutoff_len: int) -> tuple[list[ChatRecord], int]:
    """Consecutive exchanges (the system prompt repeated) grouped into chats that fit; how many exchanges
    did not fit even alone."""
    system = [m for m in chat.messages[:1] if m.role == "system"]
    turns = chat.messages[len(system):]
    exchanges: list[list[Message]] = []
    for message in turns:
        if message.role == "user" or not exchanges:
            exchanges.append([message])
        else:
            exchanges[-1].append(message)
    parts: list[list[Message]] = []
    lost = 0
    for exchange in exchanges:
        if parts and chat_tokens(tokenizer, chat.model_copy(update={"messages": [*system, *parts[-1], *exchange]})) <= cutoff_len:
            parts[-1] += exchange
        elif chat_tokens(tokenizer, chat.model_copy(update={"messages": [*system, *exchange]})) <= cutoff_len:
            parts.append(list(exchange))
        else:
            lost += 1
    chats = [chat.model_copy(update={"id": f"{chat.id}/{i}", "messages": [*system, *part]})
             for i, part in enumerate(parts, start=1) if any(m.role == "assistant" for m in part)]
    return chats, lost


def apply_cutoff(tokenizer: Any, chats: list[ChatRecord], cutoff_len: int, policy: TruncationPolicy,
                 stage: str = "data") -> tuple[list[ChatRecord], list[dict[str, Any]], dict[str, int]]:
    """Chats that fit ``cutoff_len`` tokens under ``policy``, the rejected ones, and counts per outcome."""
    kept: list[ChatRecord] = []
    rejected: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for chat in chats:
        n = chat_tokens(tokenizer, chat)
        if n <= cutoff_len:
            kept.append(chat)
            counts["fit"] += 1
            continue
        if policy == "truncate_last" and (cut := _truncate_last(tokenizer, chat, cutoff_len)) is not None:
            kept.append(cut)
            counts["truncated"] += 1
            continue
        if policy == "split":
            parts, lost = _split(tokenizer, chat, cutoff_len)
            if parts:
                kept += parts
                counts["split"] += 1
                counts["split_into"] += len(parts)
                counts["exchanges_too_long"] += lost
                continue
        counts["dropped"] += 1
        rejected.append(rejection(f"chat {chat.id}", None, "messages", f"{n} tokens > cutoff_len {cutoff_len} "
                                  f"(policy {policy})", chat.model_dump(mode="json"), stage=stage, step="cutoff",
                                  rule="too_long"))
    return kept, rejected, dict(counts)
