"""From a generation in a worker thread to an HTTP response: generation slots with a bounded waiting line,
pieces handed to the event loop, server-sent events, and the slot freed however the exchange ends.

The model generates in a thread (it blocks); the event loop only awaits a queue the thread fills. A client
that goes away trips the stop flag, so its generation ends at the next token and frees its slot.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from medadapt.llm.streaming import StopFlag
from medadapt.serve.api import SSE_DONE, APIError, Completion, metadata, notice_mark, sse
from medadapt.serve.safety import Reply

log = logging.getLogger("medadapt.serve")


class Slots:
    """``max_concurrent`` generation slots and a bounded waiting line (429 when it is full)."""

    def __init__(self, concurrent: int, queue: int, timeout: float):
        self.semaphore = asyncio.Semaphore(concurrent)
        self.concurrent, self.queue_limit, self.timeout = concurrent, queue, timeout
        self.active = 0
        self.waiting = 0

    async def acquire(self) -> None:
        if self.active >= self.concurrent and self.waiting >= self.queue_limit:
            raise APIError(429, f"server busy: {self.active} generating, {self.waiting} waiting (queue limit "
                                f"{self.queue_limit}); retry later", "rate_limit_error", "rate_limit_exceeded",
                           headers={"Retry-After": "1"})
        self.waiting += 1
        try:
            await asyncio.wait_for(self.semaphore.acquire(), self.timeout)
        except asyncio.TimeoutError:
            raise APIError(429, "timed out waiting for a free generation slot; retry later", "rate_limit_error",
                           "rate_limit_exceeded", headers={"Retry-After": "1"}) from None
        finally:
            self.waiting -= 1
        self.active += 1

    def release(self) -> None:
        self.active -= 1
        self.semaphore.release()


class Exchange:
    """One generation, started at once in a worker thread that feeds ``("piece", text)``, then ``("done",
    None)`` or ``("error", exception)``, to the event loop. Made inside the running loop, after a slot was
    acquired; ``finish`` stops the generation, waits for the thread and calls ``on_release`` exactly once."""

    def __init__(self, start: Callable[[StopFlag], Reply], on_release: Callable[[], None]):
        self.stop = StopFlag()
        self.reply: Reply | None = None
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._on_release = on_release
        self._released = threading.Event()
        self._worker = threading.Thread(target=self._work, args=(start,), daemon=True, name="medadapt-request")
        self._worker.start()

    def _work(self, start: Callable[[StopFlag], Reply]) -> None:  # in the thread
        put = self._queue.put_nowait
        try:
            self.reply = start(self.stop)
            for piece in self.reply.pieces():
                self._loop.call_soon_threadsafe(put, ("piece", piece))
            self._loop.call_soon_threadsafe(put, ("done", None))
        except BaseException as exc:  # noqa: BLE001 - reported to the request
            self._loop.call_soon_threadsafe(put, ("error", exc))

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.to_thread(self._worker.join)
        if not self._released.is_set():
            self._released.set()
            self._on_release()

    async def text(self) -> tuple[str, Reply]:
        """The whole reply (the slot freed before returning); a failed generation raises its error."""
        pieces = []
        try:
            while True:
                kind, value = await self._queue.get()
                if kind == "piece":
                    pieces.append(value)
                elif kind == "error":
                    raise value
                else:
                    break
        finally:
            await self.finish()
        assert self.reply is not None
        return "".join(pieces), self.reply

    async def events(self, completion: Completion, is_disconnected: Callable[[], Awaitable[bool]],
                     include_usage: bool) -> AsyncIterator[str]:
        """The reply as server-sent events: the role, each piece (the safety layer's marked), the finish reason
        with the safety metadata, the usage when asked, ``[DONE]``. A failure mid-stream is an error event (the
        status is already sent); a client that went away ends the stream."""
        try:
            yield completion.chunk({"role": "assistant", "content": ""})
            while True:
                kind, value = await self._queue.get()
                if await is_disconnected():
                    log.info("client went away; generation stopped")
                    return
                if kind == "piece":
                    yield completion.chunk({"content": value}, **notice_mark(value))
                elif kind == "error":  # an APIError (guard mode's upstream) is the client's as it stands
                    log.error("generation failed: %r", value)
                    error = value if isinstance(value, APIError) else APIError(500, f"generation failed: {value}",
                                                                               "server_error")
                    yield sse(error.body())
                    return
                else:
                    break
            assert self.reply is not None
            yield completion.chunk({}, self.reply.finish_reason, medadapt=metadata(self.reply))
            if include_usage:
                yield completion.usage_chunk(self.reply)
            yield SSE_DONE
        finally:  # also when the client went away: stop generating, free the slot
            await self.finish()

    def streaming_response(self, events: AsyncIterator[str]) -> Any:
        """A ``text/event-stream`` response that finishes the exchange even when the client vanished
        mid-send (the events' own cleanup may then never run)."""
        from starlette.responses import StreamingResponse

        exchange = self

        class ClosingStream(StreamingResponse):
            async def __call__(self, scope, receive, send):
                try:
                    await super().__call__(scope, receive, send)
                finally:
                    await exchange.finish()

        return ClosingStream(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
