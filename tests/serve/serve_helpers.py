"""Helpers for the serve tests: a loopback uvicorn server in a thread, scripted fake generators."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(base: str, seconds: float, alive: Callable[[], str | None] | None = None) -> None:
    """Poll ``base``/health until it answers 200; fail after ``seconds`` or as soon as ``alive`` returns a reason
    (the server process has ended, with its output)."""
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if alive is not None and (ended := alive()) is not None:
            raise AssertionError(ended)
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)


@contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its base URL; stop it."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base, 20)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class FakeGeneration:
    """Stands in for ``Generation``: yields given pieces, counts them as tokens."""

    def __init__(self, pieces: list[str]):
        self.pieces = pieces
        self.prompt_tokens = 7
        self.completion_tokens = 0
        self.finish_reason = "stop"
        self.closed = False

    def __iter__(self):
        for piece in self.pieces:
            self.completion_tokens += 1
            yield piece

    def close(self):
        self.closed = True


class FakeGenerator:
    """Answers with scripted replies, one per call (the last one repeats); records the messages it saw."""

    def __init__(self, *answers: str, piece_size: int = 3):
        self.answers = list(answers)
        self.calls: list[list[dict[str, str]]] = []
        self.piece_size = piece_size

    def stream(self, messages, params, stop=None):
        self.calls.append(messages)
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return FakeGeneration([answer[i:i + self.piece_size] for i in range(0, len(answer), self.piece_size)])


class PacedGenerator(FakeGenerator):
    """A scripted model the server can plan for (prompt tokens, context window) that answers in the language
    of the user's last message (``answers``: Persian when it has Arabic-script letters, else English) and
    waits ``delay`` seconds before each piece, so that a client sees the reply arrive in parts."""

    context_window = 2048

    def __init__(self, persian: str, english: str, delay: float = 0.05, piece_size: int = 4):
        super().__init__(english, piece_size=piece_size)
        self.persian, self.english, self.delay = persian, english, delay

    def prompt_ids(self, messages):
        return [1] * 10

    def stream(self, messages, params, stop=None):
        self.calls.append(messages)
        last = messages[-1]["content"]
        answer = self.persian if any("\u0600" <= c <= "\u06ff" for c in last) else self.english
        delay = self.delay

        class Paced(FakeGeneration):
            def __iter__(self):
                for piece in super().__iter__():
                    time.sleep(delay)
                    yield piece

        return Paced([answer[i:i + self.piece_size] for i in range(0, len(answer), self.piece_size)])
