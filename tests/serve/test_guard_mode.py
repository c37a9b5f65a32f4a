"""Guard mode: ``medadapt serve --upstream URL`` puts the safety layer, limits and key in front of another
OpenAI-compatible server. Both servers run for real on loopback: the project's fake OpenAI server upstream,
medadapt's server (uvicorn) in front; the ``openai`` package and raw HTTP as clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import openai
import pytest
from serve_helpers import FakeGenerator, free_port, running, wait_until_healthy
from typer.testing import CliRunner

from medadapt.cli.main import app as cli_app
from medadapt.errors import MedadaptError
from medadapt.llm.fake_server import FakeOpenAI, serve, user_text
from medadapt.llm.streaming import GenParams
from medadapt.serve.planner import ServeConfig
from medadapt.serve.safety import SafetyLayer
from medadapt.serve.server import create_app
from medadapt.serve.upstream import UpstreamModel

KEY = "front-key"
UPSTREAM_KEY = "upstream-secret"
ANSWER = "Please call your local emergency number now and stay with someone you trust until help arrives."
PERSIAN_QUESTION = "سلام، چند روز است که سرفه دارم و گلویم درد می‌کند. چه کار کنم؟"
PERSIAN_ANSWER = "استراحت کنید، مایعات گرم زیاد بنوشید و اگر سرفه بیش از سه هفته طول کشید به پزشک مراجعه کنید."
ENGLISH_ANSWER = "Rest, drink plenty of warm fluids, and see a doctor if the cough lasts more than three weeks."
PACKS = SafetyLayer().packs


def responder(body: dict) -> str:
    """English to a Persian question unless told to answer in Persian (then Persian); ANSWER otherwise."""
    if user_text(body) == PERSIAN_QUESTION:
        system = " ".join(m["content"] for m in body["messages"] if m["role"] == "system")
        return PERSIAN_ANSWER if PACKS["fa"].language_instruction in system else ENGLISH_ANSWER
    return ANSWER


def locally(question: str, *answers: str) -> str:
    """What the safety layer makes of these model answers in-process: guard mode must give the same text."""
    messages = [{"role": "user", "content": question}]
    return SafetyLayer().respond(FakeGenerator(*answers), messages, GenParams()).collect()


@pytest.fixture
def guard(tmp_path):
    """(fake upstream, medadapt's base URL, intervention log file); faults set per test on the fake."""
    fake = FakeOpenAI(responder=responder, timeout_s=3.0)
    log_file = tmp_path / "interventions.jsonl"
    with serve(fake) as upstream_url:
        upstream = UpstreamModel(upstream_url, "fake-model", UPSTREAM_KEY, timeout_s=1.0)
        config = ServeConfig(model_id="guarded", api_key=KEY, max_concurrent=2, default_max_tokens=64)
        try:
            with running(create_app(upstream, config, SafetyLayer(log_file=log_file))) as base:
                yield fake, base, log_file
        finally:
            upstream.close()


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0, timeout=30)


def post(base: str, **fields) -> httpx.Response:
    body = {"model": "guarded", "messages": [{"role": "user", "content": "How much water should I drink?"}], **fields}
    return httpx.post(f"{base}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)


def openai_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"] and error["code"] == code
    return error


def sse_events(text: str) -> list:
    return [json.loads(line[6:]) if line[6:] != "[DONE]" else "[DONE]"
            for line in text.splitlines() if line.startswith("data: ")]


def test_guard_mode_streams_red_flag_guidance_first_then_the_upstream_answer(guard):
    fake, base, _ = guard
    stream = client(base).chat.completions.create(
        model="guarded", messages=[{"role": "user", "content": "I want to kill myself"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    text = "".join(pieces)
    en = PACKS["en"]
    assert pieces[0].startswith(en.emergency_header)  # the guidance is the first text the client sees
    assert text == locally("I want to kill myself", ANSWER) and text.index(ANSWER) >= len(pieces[0])
    assert len([p for p in pieces if p.strip() in ANSWER]) >= 5  # the upstream's words stream, not one block
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason)
    events = final.model_extra["medadapt"]["interventions"]
    assert events[0]["type"] == "red_flag" and events[0]["action"] == "guidance_first"
    assert chunks[-1].usage.completion_tokens == len(ANSWER.split())  # the upstream's own count
    sent = fake.log[-1]
    assert sent["authorization"] == f"Bearer {UPSTREAM_KEY}" and sent["body"]["model"] == "fake-model"
    assert sent["body"]["stream"] is True and sent["body"]["max_tokens"] == 64
    assert user_text(sent["body"]) == "I want to kill myself"


def test_guard_mode_answers_whole_replies_and_lists_its_model(guard):
    fake, base, _ = guard
    reply = client(base).chat.completions.create(
        model="guarded", messages=[{"role": "user", "content": "How much water should I drink?"}], max_tokens=20,
        temperature=0.2, stop=["###"])
    assert reply.choices[0].message.content == locally("How much water should I drink?", ANSWER)
    assert reply.choices[0].message.content.startswith(ANSWER)
    assert reply.choices[0].finish_reason == "stop" and reply.usage.completion_tokens == len(ANSWER.split())
    sent = fake.log[-1]["body"]
    assert (sent["max_tokens"], sent["temperature"], sent["stop"]) == (20, 0.2, ["###"])
    assert [m.id for m in client(base).models.list().data] == ["guarded"]


@pytest.mark.parametrize(("fault", "status", "code"), [
    ("400", 400, "context_length_exceeded"),  # the upstream's own 4xx: status, code and param pass through
    ("429", 429, None),
    ("500", 502, "upstream_error"),
    ("html", 502, "upstream_error"),  # not JSON: its text becomes the message
    ("timeout", 504, "upstream_timeout"),
])
def test_an_upstream_error_arrives_openai_shaped(guard, fault, status, code):
    fake, base, _ = guard
    fake.faults = lambda number, body: fault
    response = post(base)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code
    assert "upstream" in error["message"] and UPSTREAM_KEY not in response.text
    if fault == "400":
        assert error["param"] == "messages" and "maximum context length" in error["message"]
    if fault == "429":
        assert response.headers["retry-after"] == "0" and "rate limited" in error["message"]
    if fault == "html":
        assert "503 Service Unavailable" in error["message"]
    # streamed: the status line is already sent, so the error is the stream's last event, as the openai
    # package reads one
    with pytest.raises(openai.APIError) as raised:
        list(client(base).chat.completions.create(model="guarded", stream=True,
                                                  messages=[{"role": "user", "content": "hi there"}]))
    assert raised.value.body["code"] == code and raised.value.message == error["message"]


@pytest.mark.parametrize("fault", ["midstream", "dropped", "malformed"])
def test_an_upstream_stream_that_breaks_ends_in_an_error_event(guard, fault):
    fake, base, _ = guard
    fake.faults = lambda number, body: fault
    response = post(base, stream=True)
    assert response.status_code == 200
    events = sse_events(response.text)
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text and ANSWER.startswith(text.strip())  # what came before the break was streamed
    last = events[-1]
    assert set(last) == {"error"} and set(last["error"]) == {"message", "type", "param", "code"}
    assert last["error"]["code"] == "upstream_error" and "[DONE]" not in events
    openai_error(post(base), 502, "upstream_error")  # and not streamed: a 502


def test_a_client_that_hangs_up_stops_the_upstream_stream(guard):
    fake, base, _ = guard
    fake.responder = lambda body: " ".join(["word"] * 200)
    fake.chunk_latency_s = 0.02  # the whole answer would take 4 s
    started = time.monotonic()
    body = {"model": "guarded", "stream": True, "messages": [{"role": "user", "content": "Tell me"}]}
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=30,
                      headers={"Authorization": f"Bearer {KEY}"}) as r:
        next(line for line in r.iter_lines() if "word" in line)  # the upstream's words are coming; hang up
    while httpx.get(f"{base}/health").json()["generating"] and time.monotonic() - started < 10:
        time.sleep(0.02)
    assert httpx.get(f"{base}/health").json()["generating"] == 0
    assert time.monotonic() - started < 2.5  # the slot came back long before the answer would have ended
    fake.chunk_latency_s = 0.0
    assert post(base).status_code == 200


def test_an_unreachable_upstream_is_a_502():
    config = ServeConfig(model_id="guarded", default_max_tokens=16)
    upstream = UpstreamModel(f"http://127.0.0.1:{free_port()}/v1", "gone", timeout_s=2.0)
    try:
        with running(create_app(upstream, config, SafetyLayer())) as base:
            error = openai_error(httpx.post(f"{base}/v1/chat/completions", timeout=30, json={
                "model": "guarded", "messages": [{"role": "user", "content": "hello"}]}), 502, "upstream_unreachable")
            assert "cannot be reached" in error["message"]
            with pytest.raises(openai.APIError) as raised:
                list(openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0).chat.completions.create(
                    model="guarded", stream=True, messages=[{"role": "user", "content": "hello"}]))
            assert raised.value.body["code"] == "upstream_unreachable"
            assert httpx.get(f"{base}/health").json()["generating"] == 0  # the slot came back
    finally:
        upstream.close()


def test_the_language_guard_regenerates_an_off_script_upstream_answer_once(guard):
    fake, base, log_file = guard
    before = len(fake.log)
    reply = client(base).chat.completions.create(model="guarded", messages=[
        {"role": "user", "content": PERSIAN_QUESTION}])
    assert reply.choices[0].message.content.startswith(PERSIAN_ANSWER)
    assert reply.choices[0].message.content == locally(PERSIAN_QUESTION, ENGLISH_ANSWER, PERSIAN_ANSWER)
    requests = fake.log[before:]
    assert len(requests) == 2  # the English answer was dropped and asked for again
    assert PACKS["fa"].language_instruction in requests[1]["body"]["messages"][0]["content"]
    guard_events = [e for e in reply.model_extra["medadapt"]["interventions"] if e["type"] == "language_guard"]
    assert [e["action"] for e in guard_events] == ["regenerated"] and guard_events[0]["lang"] == "fa"


def test_the_intervention_log_records_guard_mode_events(guard):
    fake, base, log_file = guard
    client(base).chat.completions.create(model="guarded",
                                         messages=[{"role": "user", "content": "I want to kill myself"}])
    list(client(base).chat.completions.create(model="guarded", stream=True,
                                              messages=[{"role": "user", "content": PERSIAN_QUESTION}]))
    logged = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    kinds = [(e["type"], e.get("action")) for e in logged]
    assert kinds[0] == ("red_flag", "guidance_first") and ("language_guard", "regenerated") in kinds
    assert [e["lang"] for e in logged if e["type"] == "disclaimer"] == ["en", "fa"]
    assert all(e["time"] for e in logged)


def test_the_api_key_is_still_required_in_front(guard):
    fake, base, _ = guard
    body = {"model": "guarded", "messages": [{"role": "user", "content": "I want to kill myself"}]}
    url = f"{base}/v1/chat/completions"
    openai_error(httpx.post(url, json=body), 401, "invalid_api_key")
    upstream_key = {"Authorization": f"Bearer {UPSTREAM_KEY}"}
    openai_error(httpx.post(url, json=body, headers=upstream_key), 401, "invalid_api_key")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).models.list()
    assert fake.log == []  # nothing reached the upstream
    openai_error(httpx.post(url, json={**body, "max_tokens": 5000}, headers={"Authorization": f"Bearer {KEY}"}),
                 400, "max_tokens_too_large")  # medadapt's limits stay in force too
    assert fake.log == []


def test_guard_mode_in_front_of_another_server_with_a_real_model(tiny_generator):
    """A second implementation upstream: medadapt's own server, safety off, streaming a tiny model's tokens."""
    inner = ServeConfig(model_id="tiny", default_max_tokens=6, max_tokens_limit=8, temperature=0.0)
    with running(create_app(tiny_generator, inner, None)) as upstream_base:
        upstream = UpstreamModel(f"{upstream_base}/v1", "tiny", timeout_s=30)
        try:
            config = ServeConfig(model_id="guarded", default_max_tokens=6)
            with running(create_app(upstream, config, SafetyLayer(disclaimer="off"))) as base:
                stream = openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0).chat.completions.create(
                    model="guarded", stream=True, stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": "I want to kill myself"}])
                chunks = list(stream)
                pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
                assert pieces[0].startswith(PACKS["en"].emergency_header) and len(pieces) >= 2
                assert chunks[-1].usage.completion_tokens == 6  # the inner server's count of the model's tokens
                openai_error(httpx.post(f"{base}/v1/chat/completions", json={
                    "model": "guarded", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}),
                    400, "max_tokens_too_large")  # the inner server's own limit, passed through
        finally:
            upstream.close()


def test_serve_upstream_command_end_to_end():
    """The command as a user runs it: the model from the upstream's /v1/models, its key from the environment."""
    fake = FakeOpenAI(responder=responder, models=("upstream-llm", "other"))
    port = free_port()
    with serve(fake) as upstream_url:
        env = {**os.environ, "UPSTREAM_TEST_KEY": UPSTREAM_KEY}
        process = subprocess.Popen(
            [sys.executable, "-m", "medadapt.cli", "serve", "--upstream", upstream_url, "--port", str(port),
             "--upstream-key-env", "UPSTREAM_TEST_KEY", "--api-key", KEY],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(base, 60, lambda: None if process.poll() is None else process.stdout.read())
            assert [m.id for m in client(base).models.list().data] == ["upstream-llm"]
            reply = client(base).chat.completions.create(
                model="upstream-llm", messages=[{"role": "user", "content": "I want to kill myself"}])
            assert reply.choices[0].message.content.startswith(PACKS["en"].emergency_header)
            assert fake.log[-1]["authorization"] == f"Bearer {UPSTREAM_KEY}"
            assert fake.log[-1]["body"]["model"] == "upstream-llm"
        finally:
            process.terminate()
            output = process.communicate(timeout=20)[0]
    assert UPSTREAM_KEY not in output and "guard mode" in output


@pytest.mark.parametrize(("args", "message"), [
    (["serve"], "or --upstream URL"),
    (["serve", "runs/x", "--upstream", "http://127.0.0.1:9/v1"], "not both"),
    (["serve", "--upstream", "127.0.0.1:9"], "expected the server's base URL"),
    (["serve", "--upstream", "http://127.0.0.1:9/v1", "--upstream-key-env", "NO_SUCH_VAR_HERE"], "is not set"),
    (["serve", "--upstream", "http://127.0.0.1:{port}/v1"], "cannot reach the upstream"),  # to list its models
])
def test_serve_upstream_mistakes_are_one_line_errors(args, message):
    result = CliRunner().invoke(cli_app, [a.replace("{port}", str(free_port())) for a in args])
    assert isinstance(result.exception, MedadaptError), result.output
    assert message in str(result.exception) and "\n" not in str(result.exception)
