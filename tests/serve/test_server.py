"""``medadapt serve`` on loopback with a tiny model: the official ``openai`` client, OpenAI-shaped errors,
limits, the queue under 50 concurrent clients, and the safety layer's metadata."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from serve_helpers import FakeGeneration, running

from medadapt.serve.safety import SafetyLayer
from medadapt.serve.planner import ServeConfig
from medadapt.serve.server import create_app, is_loopback

KEY = "test-key"


@pytest.fixture(scope="module")
def server(tiny_generator):
    config = ServeConfig(model_id="tiny", api_key=KEY, max_request_bytes=4096, max_messages=8, max_tokens_limit=64,
                         default_max_tokens=8, temperature=0.0)
    with running(create_app(tiny_generator, config, SafetyLayer())) as base:
        yield base


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0, timeout=60)


def test_openai_client_streams_a_reply(client):
    stream = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "What is a normal body temperature?"}],
        max_tokens=8, stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason in ("stop", "length")
    assert finals[0].model_extra["medadapt"]["language"] == "en"
    assert chunks[-1].usage.completion_tokens >= 1 and chunks[-1].usage.prompt_tokens > 5
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 2  # streamed in pieces
    layer = SafetyLayer()
    assert text.endswith(layer.disclaimer_text(layer.packs["en"]))


def test_openai_client_non_streaming_and_models(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["tiny"]
    reply = client.chat.completions.create(
        model="tiny", messages=[{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "I want to kill myself"}], max_tokens=4)
    assert reply.object == "chat.completion" and reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content.startswith(SafetyLayer().packs["en"].emergency_header)
    meta = reply.model_extra["medadapt"]
    event = meta["interventions"][0]
    assert {k: event[k] for k in ("type", "categories", "lang", "matched_lexicons", "action")} == {
        "type": "red_flag", "categories": ["suicidal"], "lang": "en", "matched_lexicons": ["en"],
        "action": "guidance_first"}
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_stop_sequences_and_text_parts(server):
    body = {"model": "tiny", "max_tokens": 6, "temperature": 0, "stop": ["\n\n"],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]}
    done = httpx.post(f"{server}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert done.status_code == 200, done.text


def error_of(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    if code:
        assert error["code"] == code
    return error


def test_unauthorised_requests(server):
    ok = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}]}
    url = f"{server}/v1/chat/completions"
    error_of(httpx.post(url, json=ok), 401, "invalid_api_key")
    error_of(httpx.post(url, json=ok, headers={"Authorization": "Bearer wrong"}), 401, "invalid_api_key")
    error_of(httpx.get(f"{server}/v1/models", headers={"Authorization": "Basic abc"}), 401, "invalid_api_key")
    with pytest.raises(openai.AuthenticationError) as raised:
        openai.OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0).models.list()
    assert raised.value.status_code == 401 and raised.value.code == "invalid_api_key"
    assert httpx.get(f"{server}/health").json()["status"] == "ok"  # health needs no key


def test_oversized_and_malformed_requests(server, client):
    url = f"{server}/v1/chat/completions"
    auth = {"Authorization": f"Bearer {KEY}"}
    big = {"model": "tiny", "messages": [{"role": "user", "content": "x" * 5000}]}
    error_of(httpx.post(url, json=big, headers=auth), 413, "request_too_large")
    chunked = httpx.post(url, content=iter([b'{"model": "tiny", "messages": [', b" " * 5000, b"]}"]), headers=auth)
    error_of(chunked, 413, "request_too_large")
    error_of(httpx.post(url, content=b"{not json", headers={**auth, "Content-Type": "application/json"}), 400, "invalid_json")
    error_of(httpx.post(url, json=[1, 2], headers=auth), 400, "invalid_json")
    missing = error_of(httpx.post(url, json={"model": "tiny"}, headers=auth), 400, "invalid_request")
    assert missing["param"] == "messages"
    bad_role = {"model": "tiny", "messages": [{"role": "wizard", "content": "hi"}]}
    assert error_of(httpx.post(url, json=bad_role, headers=auth), 400)["param"].startswith("messages")
    error_of(httpx.post(url, json={"model": "tiny", "messages": [{"role": "user", "content": "hi"}] * 9},
                        headers=auth), 400, "too_many_messages")
    error_of(httpx.post(url, json={"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "temperature": 9},
                        headers=auth), 400)
    error_of(httpx.post(url, json={"model": "tiny", "messages": [{"role": "assistant", "content": "hi"}]},
                        headers=auth), 400)
    error_of(httpx.post(url, json={"model": "other", "messages": [{"role": "user", "content": "hi"}]}, headers=auth),
             404, "model_not_found")
    error_of(httpx.get(f"{server}/v1/nowhere", headers=auth), 404)
    error_of(httpx.get(url, headers=auth), 405)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=5000)
    assert raised.value.code == "max_tokens_too_large"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


class SlowGenerator:
    """A model that takes a while per reply, so that requests pile up."""

    model_id = "slow"
    context_window = 2048

    def __init__(self, delay: float):
        self.delay = delay
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def prompt_ids(self, messages):
        return [1] * 10

    def stream(self, messages, params, stop=None):
        outer = self

        class Slow(FakeGeneration):
            def __iter__(self):
                with outer.lock:
                    outer.running += 1
                    outer.most = max(outer.most, outer.running)
                try:
                    time.sleep(outer.delay)
                    yield from super().__iter__()
                finally:
                    with outer.lock:
                        outer.running -= 1

        return Slow(["Rest ", "and ", "drink ", "water."])


def test_fifty_concurrent_clients_get_answers_or_clean_429s():
    generator = SlowGenerator(delay=0.05)
    config = ServeConfig(model_id="slow", max_concurrent=2, max_queue=5, default_max_tokens=8)
    with running(create_app(generator, config, SafetyLayer(disclaimer="off"))) as base:
        def ask(i: int):
            body = {"model": "slow", "stream": i % 2 == 0, "messages": [{"role": "user", "content": f"Question {i}?"}]}
            with httpx.Client(timeout=60) as http:
                response = http.post(f"{base}/v1/chat/completions", json=body)
                return response.status_code, response.text

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(ask, range(50)))
        statuses = [status for status, _ in results]
        assert set(statuses) <= {200, 429}, statuses
        assert statuses.count(429) >= 1 and statuses.count(200) >= 7
        for status, text in results:
            if status == 429:
                assert json.loads(text)["error"]["code"] == "rate_limit_exceeded"
            elif "data: " in text:
                assert text.rstrip().endswith("data: [DONE]") and "water." in text
            else:
                assert json.loads(text)["choices"][0]["message"]["content"] == "Rest and drink water."
        assert generator.most <= 2
        health = httpx.get(f"{base}/health").json()
        assert health["status"] == "ok" and health["generating"] == 0 and health["waiting"] == 0
        assert health["served"] == statuses.count(200)
        after = httpx.post(f"{base}/v1/chat/completions",
                           json={"model": "slow", "messages": [{"role": "user", "content": "still there?"}]})
        assert after.status_code == 200


def test_a_client_that_disconnects_frees_its_slot(tiny_generator):
    config = ServeConfig(model_id="tiny", max_concurrent=1, max_queue=0, default_max_tokens=400, temperature=0.0)
    with running(create_app(tiny_generator, config, None)) as base:
        body = {"model": "tiny", "stream": True, "max_tokens": 400, "messages": [{"role": "user", "content": "Tell me"}]}
        with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=30) as response:
            next(response.iter_lines())  # the first chunk arrived; now hang up
        deadline = time.monotonic() + 10
        while httpx.get(f"{base}/health").json()["generating"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(f"{base}/health").json()["generating"] == 0
        again = httpx.post(f"{base}/v1/chat/completions", timeout=30,
                           json={"model": "tiny", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]})
        assert again.status_code == 200


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
