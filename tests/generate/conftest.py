from __future__ import annotations

import pytest

from medadapt.llm.fake_server import FakeOpenAI, serve


@pytest.fixture
def fake():
    """A fake OpenAI-compatible server on 127.0.0.1; ``fake.url`` is its base URL."""
    server = FakeOpenAI()
    with serve(server) as url:
        server.url = url
        yield server
