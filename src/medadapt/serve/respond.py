"""One answer to a conversation, through the safety layer or straight from the model.

The terminal chat and the server both start their answers here, so a reply without the safety layer closes
its generation and carries its token counts and finish reason exactly as a guarded one does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from medadapt.llm.streaming import Generation, GenParams, StopFlag
from medadapt.serve.safety import Reply, SafetyLayer


def respond(generator: Any, messages: list[dict[str, str]], params: GenParams, stop: StopFlag,
            safety: SafetyLayer | None) -> Reply:
    """The reply to ``messages`` (the last is the user's); ``safety=None`` streams the model's text as is."""
    if safety is not None:
        return safety.respond(generator, messages, params, stop)
    reply = Reply()
    reply._pieces = _closing(generator.stream(messages, params, stop), reply)
    return reply


def _closing(generation: Generation, reply: Reply) -> Iterator[str]:
    """The generation's pieces; when they end or the reader stops early, close it (stopping its worker
    thread) and copy its counts onto ``reply``."""
    try:
        yield from generation
    finally:
        generation.close()
        reply.prompt_tokens, reply.completion_tokens = generation.prompt_tokens, generation.completion_tokens
        reply.finish_reason = generation.finish_reason
