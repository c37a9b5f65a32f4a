"""The server's request rules and wire format without FastAPI: a body becomes a plan or an OpenAI-shaped
error; a reply becomes response bodies; a reply without the safety layer carries the generation's counts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from serve_helpers import FakeGenerator

from medadapt.llm.streaming import GenParams, StopFlag
from medadapt.serve.api import APIError, Completion, metadata, usage
from medadapt.serve.planner import ServeConfig, parse_request, plan_request
from medadapt.serve.respond import respond
from medadapt.serve.safety import Reply

CONFIG = ServeConfig(model_id="tiny", max_messages=3, max_tokens_limit=64, default_max_tokens=8, temperature=0.5,
                     top_p=0.8, repetition_penalty=1.2)


class Counting:
    """Prompt tokens: one per character of every message; a fixed context window."""

    def __init__(self, context_window: int = 100, reject: bool = False):
        self.context_window = context_window
        self.reject = reject
        self.seen: list[list[dict[str, str]]] = []

    def prompt_ids(self, messages):
        if self.reject:
            raise ValueError("roles must alternate")
        self.seen.append(messages)
        return [0] * sum(len(m["content"]) for m in messages)


def body(**fields) -> bytes:
    return json.dumps({"model": "tiny", "messages": [{"role": "user", "content": "hi"}], **fields}).encode()


def error(call) -> APIError:
    with pytest.raises(APIError) as raised:
        call()
    return raised.value


def test_fastapi_is_not_needed_to_plan():
    code = ("import sys, medadapt.serve.planner, medadapt.serve.api, medadapt.serve.respond; "
            "print(any(m.split('.')[0] in ('fastapi', 'starlette') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


@pytest.mark.parametrize(("raw", "status", "code", "param"), [
    (b"{not json", 400, "invalid_json", None),
    (b"\xff\xfe", 400, "invalid_json", None),
    (b"[1, 2]", 400, "invalid_json", None),
    (b'{"model": "tiny"}', 400, "invalid_request", "messages"),
    (body(messages=[{"role": "wizard", "content": "hi"}]), 400, "invalid_request", "messages.0.role"),
    (body(temperature=9), 400, "invalid_request", "temperature"),
    (body(stop=["a", ""]), 400, "invalid_request", "stop"),
    (body(n=2), 400, "invalid_request", "n"),
    (body(model="gpt-4o"), 404, "model_not_found", "model"),
    (body(messages=[{"role": "user", "content": "hi"}] * 4), 400, "too_many_messages", "messages"),
    (body(tools=[{"type": "function"}]), 400, "unsupported_parameter", "tools"),
    (body(messages=[{"role": "assistant", "content": "hi"}]), 400, "invalid_request", "messages"),
])
def test_requests_the_server_refuses(raw, status, code, param):
    refused = error(lambda: parse_request(raw, CONFIG))
    assert (refused.status, refused.code, refused.param) == (status, code, param)
    assert set(refused.body()["error"]) == {"message", "type", "param", "code"} and refused.message


def test_validation_message_names_the_field():
    refused = error(lambda: parse_request(body(temperature=9), CONFIG))
    assert refused.message.startswith("temperature: ")


def test_a_plan_uses_the_servers_defaults_and_system_prompt():
    generator = Counting()
    config = ServeConfig(**{**CONFIG.__dict__, "system_prompt": "Be careful."})
    plan = plan_request(parse_request(body(stop="\n\n"), config), config, generator)
    assert plan.messages == [{"role": "system", "content": "Be careful."}, {"role": "user", "content": "hi"}]
    assert plan.params == GenParams(max_new_tokens=8, temperature=0.5, top_p=0.8, repetition_penalty=1.2,
                                    stop=["\n\n"], seed=None)
    assert plan.prompt_ids == [0] * len("Be careful.hi") and generator.seen == [plan.messages]


def test_a_plan_keeps_the_requests_settings_and_reads_developer_as_system():
    raw = body(messages=[{"role": "developer", "content": "Short."},
                         {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
               max_tokens=5, max_completion_tokens=7, temperature=0, top_p=0.5, seed=3)
    config = ServeConfig(**{**CONFIG.__dict__, "system_prompt": "unused"})
    plan = plan_request(parse_request(raw, config), config, Counting())
    assert plan.messages == [{"role": "system", "content": "Short."}, {"role": "user", "content": "ab"}]
    assert (plan.params.max_new_tokens, plan.params.temperature, plan.params.top_p, plan.params.seed) == (7, 0, 0.5, 3)


def test_max_new_tokens_is_capped_by_the_room_left_in_the_context_window():
    plan = plan_request(parse_request(body(max_tokens=60), CONFIG), CONFIG, Counting(context_window=12))
    assert plan.params.max_new_tokens == 10


@pytest.mark.parametrize(("fields", "generator", "code"), [
    ({"max_tokens": 65}, Counting(), "max_tokens_too_large"),
    ({"max_completion_tokens": 65, "max_tokens": 1}, Counting(), "max_tokens_too_large"),
    ({}, Counting(context_window=2), "context_length_exceeded"),
    ({}, Counting(reject=True), "invalid_request"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, Counting(), "unsupported_content"),
])
def test_plans_the_server_refuses(fields, generator, code):
    refused = error(lambda: plan_request(parse_request(body(**fields), CONFIG), CONFIG, generator))
    assert refused.status == 400 and refused.code == code


def test_response_bodies_carry_usage_and_safety_metadata():
    reply = Reply(text="ok", lang="fa", interventions=[{"type": "disclaimer"}], finish_reason="length",
                  prompt_tokens=4, completion_tokens=2)
    assert usage(reply) == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    assert metadata(reply) == {"interventions": [{"type": "disclaimer"}], "language": "fa"}
    completion = Completion("chatcmpl-1", 10, "tiny")
    whole = completion.body("ok", reply)
    assert whole["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "logprobs": None,
                                 "finish_reason": "length"}]
    assert whole["usage"]["total_tokens"] == 6 and whole["medadapt"]["language"] == "fa"
    event = completion.chunk({"content": "سلام"})
    assert event.startswith("data: ") and event.endswith("\n\n") and "سلام" in event
    assert json.loads(event[6:])["object"] == "chat.completion.chunk"
    last = json.loads(completion.usage_chunk(reply)[6:])
    assert last["choices"] == [] and last["usage"]["prompt_tokens"] == 4


class Keeping(FakeGenerator):
    """Keeps the generation it made, to look at it afterwards."""

    def stream(self, messages, params, stop=None):
        self.generation = super().stream(messages, params, stop)
        return self.generation


def test_a_reply_without_the_safety_layer_closes_its_generation_and_keeps_its_counts():
    generator = Keeping("Rest and drink water.", piece_size=5)
    reply = respond(generator, [{"role": "user", "content": "hi"}], GenParams(), StopFlag(), None)
    assert reply.collect() == "Rest and drink water." and generator.generation.closed
    assert (reply.prompt_tokens, reply.completion_tokens, reply.finish_reason) == (7, 5, "stop")
    assert reply.interventions == [] and reply.lang is None

