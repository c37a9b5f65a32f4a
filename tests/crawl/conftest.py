"""The fixture site in a thread: its request log is the ground truth of what the crawler asked for."""

from __future__ import annotations

import pytest

from medadapt.crawl.fixtures import FixtureServer


@pytest.fixture
def fixture_server():
    server = FixtureServer("normal")
    with server.running():
        yield server


@pytest.fixture
def hostile_server():
    server = FixtureServer("hostile")
    with server.running():
        yield server
