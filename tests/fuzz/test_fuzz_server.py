"""Random HTTP requests to the OpenAI-compatible server, in process (starlette's TestClient): random JSON
bodies, chat requests with fields of the wrong type, huge strings, bad content types, invalid UTF-8, deep
nesting, wrong paths and methods. The answer is a reply, or an OpenAI-shaped JSON error with a 4xx status:
never a 500, never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fuzz_files import VARIANTS, value
from fuzz_helpers import CASES, FUZZ, shown
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medadapt.serve.planner import ServeConfig
from medadapt.serve.safety import SafetyLayer
from medadapt.serve.server import create_app

KEY = "fuzz-key"
LIMIT = 16 * 1024  # the server's max_request_bytes here


class Generation:
    """What ``Generator.stream`` returns: the reply in pieces, with token counts and a finish reason."""

    def __init__(self, text: str, limit: int):
        self.pieces = [text[i:i + 4] for i in range(0, min(len(text), limit * 4), 4)]
        self.prompt_tokens, self.completion_tokens, self.finish_reason = 3, 0, "stop"

    def __iter__(self):
        for piece in self.pieces:
            self.completion_tokens += 1
            yield piece

    def close(self) -> None:
        pass


class EchoGenerator:
    """A model stand-in that answers with the user's last words: one token a character, a small window."""

    model_id = "fuzz"
    context_window = 512

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        return [1] * sum(len(m["content"]) + 4 for m in messages)

    def stream(self, messages, params, stop=None) -> Generation:
        return Generation(messages[-1]["content"][::-1] or "ok", params.max_new_tokens)


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    config = ServeConfig(model_id="fuzz", api_key=KEY, max_request_bytes=LIMIT, max_messages=8, max_tokens_limit=64,
                         default_max_tokens=8, system_prompt="Be careful.")
    with TestClient(create_app(EchoGenerator(), config, SafetyLayer())) as test_client:
        yield test_client


words = st.text(max_size=40) | st.sampled_from([*VARIANTS, "I want to kill myself", "درد قفسه سینه دارم"])
role = st.sampled_from(["user", "user", "system", "assistant", "developer", "tool", "", "USER"])
part = st.fixed_dictionaries({"type": st.sampled_from(["text", "text", "image_url"]), "text": words | value})
message = st.fixed_dictionaries({"role": role, "content": words | st.lists(part, max_size=3) | value | st.none()})


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """A right value three draws in four: a request has to get past validation to reach the model."""
    return st.one_of(good, good, good, bad)


FIELDS = {
    "model": mostly(st.just("fuzz"), st.sampled_from(["gpt-4o", ""]) | value),
    "messages": mostly(st.lists(message, min_size=1, max_size=4), value),
    "stream": mostly(st.booleans(), value),
    "max_tokens": mostly(st.integers(1, 64), st.integers(-2, 100) | value),
    "max_completion_tokens": mostly(st.integers(1, 64) | st.none(), st.integers(-2, 100)),
    "temperature": mostly(st.floats(0, 2), st.floats(-1, 3) | st.sampled_from([float("nan"), float("inf")]) | value),
    "top_p": mostly(st.floats(0.01, 1), st.floats(-0.5, 1.5) | value),
    "stop": mostly(st.sampled_from([None, "\n", ["a", "b"], "e"]), st.sampled_from([[""], ["a"] * 5, "", [1]]) | value),
    "seed": mostly(st.integers(0, 2**32), st.integers() | value),
    "n": st.integers(-1, 3),
    "stream_options": mostly(st.fixed_dictionaries({"include_usage": st.booleans()}), value),
    "tools": st.sampled_from([None, [], [{"type": "function"}]]),
    "user": words,
}


@st.composite
def chat_body(draw) -> Any:
    """A chat request: the right fields (most of them usually), some of them wrong, some unknown."""
    body = {"model": "fuzz", "messages": [{"role": "user", "content": draw(words)}], "stream": draw(st.booleans())}
    for name in draw(st.lists(st.sampled_from(list(FIELDS)), max_size=5, unique=True)):
        body[name] = draw(FIELDS[name])
    if draw(st.integers(0, 9)) == 0:
        body.pop(draw(st.sampled_from(list(body))))
    if draw(st.integers(0, 5)) == 0:
        body[draw(words)] = draw(value)
    return body


@st.composite
def body_bytes(draw) -> bytes:
    """The request body: a chat request as JSON (most draws), any JSON value, or bytes that are no JSON."""
    kind = draw(st.sampled_from(["chat"] * 6 + ["json", "huge", "raw", "deep", "utf16"]))
    if kind in ("chat", "utf16"):
        text = json.dumps(draw(chat_body()), ensure_ascii=draw(st.booleans()))
        encoding = "utf-16" if kind == "utf16" else "utf-8"
        return text.encode(encoding, "surrogatepass")[:draw(st.sampled_from([None] * 8 + [10, 1]))]
    if kind == "json":
        return json.dumps(draw(value)).encode()
    if kind == "huge":
        return json.dumps({"model": "fuzz", "messages": [{"role": "user", "content": "x" * LIMIT}]}).encode()
    if kind == "deep":
        return b'{"model": "fuzz", "messages": ' + b"[" * draw(st.sampled_from([2_000, 5_000])) + b"]"
    return draw(st.binary(max_size=200) | st.sampled_from([b"", b"\xff\xfe", b'{"model": "fuzz\xff"}', b"null"]))


CHAT = st.tuples(st.just("POST"), st.just("/v1/chat/completions"), body_bytes())
REQUESTS = st.one_of(
    CHAT, CHAT, CHAT, CHAT,
    st.tuples(st.sampled_from(["GET", "DELETE", "PUT", "POST"]),
              st.sampled_from(["/v1/models", "/v1/models/fuzz", "/v1/models/%ff%00", "/health", "/v1/chat/completions",
                               "/v1/nothing", "/", "/v1/models/" + "x" * 3000]), st.binary(max_size=50)),
)
HEADERS = st.fixed_dictionaries({
    "authorization": st.sampled_from([f"Bearer {KEY}"] * 12 + ["", "Bearer wrong", "Basic abc", f"bearer  {KEY} "]),
    "content-type": st.sampled_from(["application/json"] * 8 + ["text/plain", "multipart/form-data; boundary=x",
                                                                "application/json; charset=latin-1", "\x7f"]),
})


def assert_openai_answer(response, shown_request: str) -> None:
    """A reply (JSON, or a stream ending in [DONE] with no error event), or an OpenAI error with a 4xx."""
    where = f"\n  request: {shown_request}\n  response: {response.status_code} {shown(response.text, 800)}"
    assert response.status_code < 500, f"server error{where}"
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}, f"not OpenAI's error shape{where}"
        assert isinstance(error["message"], str) and error["message"], f"empty error message{where}"
        return
    if response.headers["content-type"].startswith("text/event-stream"):
        events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
        assert events and events[-1] == "[DONE]", f"stream without [DONE]{where}"
        assert all("error" not in json.loads(e) for e in events[:-1]), f"error inside the stream{where}"
    elif response.headers["content-type"].startswith("text/html"):  # the chat page at /
        assert "<html" in response.text.lower(), f"not a page{where}"
    else:
        assert isinstance(response.json(), dict), f"not a JSON object{where}"


@settings(FUZZ, max_examples=400)
@example(request=("POST", "/v1/chat/completions", b'{"model": "fuzz", "messages": ' + b"[" * 5_000),
         headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"})  # nested too deeply
@given(request=REQUESTS, headers=HEADERS)
def test_every_request_gets_a_reply_or_an_openai_error(client, request, headers):
    method, path, body = request
    CASES["server request"] += 1
    response = client.request(method, path, content=body, headers=headers)
    assert_openai_answer(response, shown((method, path, headers, body)))


@pytest.fixture(scope="module")
def tiny_client(tiny_model_dir):
    """The server on the tiny real model: its chat template, tokenizer and sampling see the odd requests."""
    from fastapi.testclient import TestClient

    from medadapt.llm.streaming import Generator
    from medadapt.models.loading import load_for_inference

    model, tokenizer = load_for_inference(str(tiny_model_dir))
    config = ServeConfig(model_id="fuzz", max_request_bytes=LIMIT, max_tokens_limit=4, default_max_tokens=2)
    with TestClient(create_app(Generator(model, tokenizer, "fuzz"), config, None)) as test_client:
        yield test_client


@settings(FUZZ, max_examples=60)
@given(body=chat_body())
def test_the_real_model_answers_odd_requests_or_refuses_them(tiny_client, body):
    CASES["server request (tiny model)"] += 1
    data = json.dumps(body).encode("utf-8", "surrogatepass")
    response = tiny_client.post("/v1/chat/completions", content=data, headers={"content-type": "application/json"})
    assert_openai_answer(response, shown(body))
