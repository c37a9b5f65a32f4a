"""What the in-process backends (transformers, vLLM) share: requests that arrive together are generated
together (batches of up to ``batch_size`` with the same settings), in a worker thread so the event loop
keeps serving the cache while the model works."""

from __future__ import annotations

import asyncio
from abc import abstractmethod

from medadapt.llm.backend import Backend, ChatRequest, Completion


class BatchedBackend(Backend):
    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self._pending: list[tuple[ChatRequest, asyncio.Future]] = []
        self._runner: asyncio.Task | None = None

    async def complete(self, request: ChatRequest) -> Completion:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the other workers queue their requests first
        while self._pending:
            params = self._pending[0][0].params
            batch = [p for p in self._pending if p[0].params == params][: self.batch_size]
            for entry in batch:
                self._pending.remove(entry)
            try:
                completions = await asyncio.to_thread(self.generate, [request for request, _ in batch])
            except Exception as exc:  # noqa: BLE001  (each waiting item records the failure)
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for (_, future), completion in zip(batch, completions):
                    future.set_result(completion)
            await asyncio.sleep(0)

    @abstractmethod
    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """One batched call for requests that share max_tokens and temperature (runs in a worker thread)."""
