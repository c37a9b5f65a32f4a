"""The chat page without a browser: ``GET /`` serves it and its files, none of which points off this server,
and the stream marks the safety layer's text (``medadapt.part``) while OpenAI clients read it unchanged."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import httpx
import openai
import pytest
from serve_helpers import PacedGenerator, running

from medadapt.serve.planner import ServeConfig
from medadapt.serve.safety import SafetyLayer
from medadapt.serve.server import create_app
from medadapt.serve.webpage import PAGE_DIR

RED_FLAG = "I have crushing chest pain and I am short of breath"
ANSWER = "Sit down and rest while help comes."


@pytest.fixture(scope="module")
def server():
    generator = PacedGenerator("استراحت کنید.", ANSWER, delay=0.0)
    with running(create_app(generator, ServeConfig(model_id="paced"), SafetyLayer())) as base:
        yield base


class References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href", "action") and value]


def test_the_page_and_its_files_are_served_and_point_nowhere_else(server):
    page = httpx.get(f"{server}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    parser = References()
    parser.feed(page.text)
    assets = [u for u in parser.urls if not u.startswith("data:")]
    assert sorted(assets) == ["page/chat.css", "page/chat.js"]
    for asset in assets:
        response = httpx.get(f"{server}/{asset}")
        assert response.status_code == 200 and response.text == (PAGE_DIR / asset.removeprefix("page/")).read_text()
    assert httpx.get(f"{server}/page/chat.js").headers["content-type"].split(";")[0] in (
        "text/javascript", "application/javascript")
    for file in PAGE_DIR.iterdir():
        text = file.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[\w.-]+\.[a-z]{2,}|@import|url\((?!\s*['\"]?data:)", text), file.name
    assert httpx.get(f"{server}/page/missing.js").json()["error"]["code"] == "not_found"


def test_health_says_whether_a_key_is_required(server):
    assert httpx.get(f"{server}/health").json()["auth_required"] is False
    with running(create_app(PacedGenerator("", ""), ServeConfig(api_key="k"), None)) as keyed:
        assert httpx.get(f"{keyed}/health").json()["auth_required"] is True
        assert httpx.get(f"{keyed}/").status_code == 200  # the page itself holds nothing secret


def stream_events(base: str, content: str) -> list[dict]:
    body = {"model": "paced", "stream": True, "messages": [{"role": "user", "content": content}]}
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=30) as response:
        text = "".join(response.iter_text())
    data = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def test_the_stream_marks_guidance_and_disclaimer_only(server):
    pack = SafetyLayer().packs["en"]
    events = stream_events(server, RED_FLAG)
    content = [(e["choices"][0]["delta"].get("content"), e.get("medadapt", {}).get("part"))
               for e in events if e["choices"] and e["choices"][0]["delta"].get("content")]
    assert content[0][1] == "guidance" and content[0][0].startswith(pack.emergency_header)
    assert content[-1][1] == "disclaimer" and content[-1][0].startswith("\n\n") and content[-1][0].strip()
    answer = content[1:-1]
    assert answer and all(part is None for _, part in answer) and "".join(t for t, _ in answer) == ANSWER
    # the final chunk as before
    assert [i["type"] for i in events[-1]["medadapt"]["interventions"]] == ["red_flag", "disclaimer"]

    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0)
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="paced", stream=True, messages=[{"role": "user", "content": RED_FLAG}]) if c.choices)
    whole = client.chat.completions.create(model="paced", messages=[{"role": "user", "content": RED_FLAG}])
    assert streamed == whole.choices[0].message.content == "".join(t for t, _ in content)


def test_without_the_safety_layer_nothing_is_marked():
    with running(create_app(PacedGenerator("", ANSWER, delay=0.0), ServeConfig(model_id="paced"), None)) as base:
        events = stream_events(base, RED_FLAG)
    assert all("medadapt" not in e for e in events if e["choices"] and not e["choices"][0]["finish_reason"])
