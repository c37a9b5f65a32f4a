"""The server's request rules, without a web framework: a request body becomes a validated ``ChatRequest``,
then the messages, generation parameters and limits a generation runs with — or an ``APIError`` saying why not.

Every rule a client can hit (size, model name, message count, roles, tools, max_tokens, the context window)
lives here, so that each is tested directly and the FastAPI wiring only moves bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from medadapt.llm.streaming import GenParams
from medadapt.serve.api import APIError, ChatRequest, validation_message


@dataclass
class ServeConfig:
    model_id: str = "medadapt"
    api_key: str | None = None
    max_request_bytes: int = 256 * 1024
    max_messages: int = 64
    max_tokens_limit: int = 1024       # the most a request may ask for
    default_max_tokens: int = 256      # when a request names none
    max_concurrent: int = 1            # generations at once (one model; on a CPU more only slows each)
    max_queue: int = 8                 # requests waiting for a slot before 429
    queue_timeout_s: float = 120.0     # a waiting request gives up with 429 after this long
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.1
    system_prompt: str | None = None   # added when a conversation has no system message


class Tokenising(Protocol):
    """What planning needs of a generator: its prompt tokens for messages and its context window (None: the
    model runs behind another server, guard mode's upstream, which tokenises and enforces its own)."""

    context_window: int | None

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]: ...


@dataclass
class Plan:
    """A generation ready to start: the conversation as the model sees it, its parameters, its prompt tokens."""

    messages: list[dict[str, str]]
    params: GenParams
    prompt_ids: list[int]


def model_not_found(model: str, config: ServeConfig) -> APIError:
    return APIError(404, f"the model {model!r} does not exist; this server serves {config.model_id!r}",
                    param="model", code="model_not_found")


def parse_request(body: bytes, config: ServeConfig) -> ChatRequest:
    """The body as a chat request this server accepts: JSON object, known model, within the message limit, no
    tools, ending with the user's turn."""
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:  # Recursion: nested too deeply
        raise APIError(400, f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(raw, dict):
        raise APIError(400, "the body must be a JSON object", code="invalid_json")
    try:
        req = ChatRequest.model_validate(raw)
    except ValidationError as exc:
        message, param = validation_message(exc)
        raise APIError(400, message, param=param, code="invalid_request") from None
    if req.model != config.model_id:
        raise model_not_found(req.model, config)
    if len(req.messages) > config.max_messages:
        raise APIError(400, f"{len(req.messages)} messages; the limit is {config.max_messages}",
                       param="messages", code="too_many_messages")
    if req.tools:
        raise APIError(400, "tools are not supported by this server", param="tools", code="unsupported_parameter")
    if req.messages[-1].role != "user":
        raise APIError(400, "the last message must be the user's", param="messages", code="invalid_request")
    return req


def plan_request(req: ChatRequest, config: ServeConfig, generator: Tokenising) -> Plan:
    """Messages (``developer`` read as ``system``; the server's system prompt added when there is none),
    parameters (the request's, else the server's; ``max_new_tokens`` capped by the room left in the context
    window) and the prompt tokens."""
    messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in req.messages]
    if config.system_prompt and messages[0]["role"] != "system":
        messages.insert(0, {"role": "system", "content": config.system_prompt})
    wanted = req.max_completion_tokens or req.max_tokens
    if wanted is not None and wanted > config.max_tokens_limit:
        raise APIError(400, f"max_tokens {wanted} is over this server's limit of {config.max_tokens_limit}",
                       param="max_tokens", code="max_tokens_too_large")
    prompt_ids, room = _prompt_and_room(messages, generator)
    max_new_tokens = wanted or config.default_max_tokens
    params = GenParams(
        max_new_tokens=max_new_tokens if room is None else min(max_new_tokens, room),
        temperature=config.temperature if req.temperature is None else req.temperature,
        top_p=config.top_p if req.top_p is None else req.top_p,
        repetition_penalty=config.repetition_penalty, stop=list(req.stop or []), seed=req.seed,
    )
    return Plan(messages, params, prompt_ids)


def _prompt_and_room(messages: list[dict[str, str]], generator: Tokenising) -> tuple[list[int], int | None]:
    """The prompt tokens and the room their context window leaves (nothing to count without a window)."""
    if generator.context_window is None:
        return [], None
    try:
        prompt_ids = generator.prompt_ids(messages)
    except Exception as exc:  # noqa: BLE001 - e.g. a template that needs alternating roles
        raise APIError(400, f"the model's chat template rejected these messages: {exc}", param="messages",
                       code="invalid_request") from None
    room = generator.context_window - len(prompt_ids)
    if room < 1:
        raise APIError(400, f"the messages take {len(prompt_ids)} tokens; this model's context window is "
                            f"{generator.context_window}", param="messages", code="context_length_exceeded")
    return prompt_ids, room
