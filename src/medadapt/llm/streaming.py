"""Streamed generation shared by the terminal chat, the server and free-form evaluation: one model, one chat
template, pieces of text as they are decoded, a stop flag that can be tripped from another thread, stop
strings, token counts."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GenParams:
    max_new_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.1
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


class StopFlag:
    """A stopping criterion the user (Ctrl-C), a client disconnect or a guard can trip while generation runs
    in another thread."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def set(self) -> None:
        self.event.set()

    def __call__(self, input_ids, scores, **kwargs) -> bool:
        return self.event.is_set()


class Generation:
    """One streamed reply: iterate for text pieces; afterwards ``finish_reason`` ("stop" | "length"),
    ``prompt_tokens`` and ``completion_tokens`` are set. Closing it early stops the worker thread."""

    def __init__(self, pieces: Iterator[str], prompt_tokens: int):
        self._pieces = pieces
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = 0
        self.finish_reason = "stop"

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close:
            close()


def split_stop(text: str, stops: list[str]) -> tuple[str, str, bool]:
    """(text safe to emit now, text held back, whether a stop string was found)."""
    for stop in stops:
        at = text.find(stop)
        if at >= 0:
            return text[:at], "", True
    hold = 0
    for stop in stops:  # a stop string may begin at the end of this text: hold that part back
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                hold = max(hold, k)
                break
    return (text[:-hold], text[-hold:], False) if hold else (text, "", False)


def cut_at_stop(pieces: Iterable[str], stops: list[str], stop: StopFlag) -> Iterator[str]:
    """``pieces`` (non-empty ones) up to the first stop string, which is not emitted: text that may begin a stop
    string is held back until the next piece tells; a stop string found sets ``stop`` and ends the stream
    without reading ``pieces`` further."""
    held = ""
    for piece in pieces:
        if not stops:
            if piece:
                yield piece
            continue
        emit, held, found = split_stop(held + piece, stops)
        if emit:
            yield emit
        if found:
            stop.set()
            return
    if held:
        yield held


class Generator:
    """A loaded causal LM + tokenizer (with its chat template) that streams replies to chat messages."""

    def __init__(self, model: Any, tokenizer: Any, model_id: str = "medadapt"):
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.context_window = getattr(model.config, "max_position_embeddings", 2048)

    @property
    def chat_template(self) -> str | None:
        return self.tokenizer.chat_template

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def stop_token_ids(self) -> list[int]:
        """The template's end-of-turn token (the tokenizer's eos) and the model's own end-of-text ids."""
        own = self.model.generation_config.eos_token_id
        own = own if isinstance(own, list) else [own] if own is not None else []
        return sorted({self.tokenizer.eos_token_id, *own} - {None})

    def generate_kwargs(self, input_ids: Any, params: GenParams) -> dict[str, Any]:
        import torch

        kwargs = dict(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=params.max_new_tokens,
            do_sample=params.temperature > 0, repetition_penalty=params.repetition_penalty,
            pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.stop_token_ids(),
        )
        if params.temperature > 0:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        return kwargs

    def stream(self, messages: list[dict[str, str]], params: GenParams, stop: StopFlag | None = None,
               prompt_ids: list[int] | None = None) -> Generation:
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        ids = prompt_ids if prompt_ids is not None else self.prompt_ids(messages)
        input_ids = torch.tensor([ids], device=self.model.device)
        stop = stop or StopFlag()
        generation: Generation

        class CountingStreamer(TextIteratorStreamer):
            def put(self, value):  # the first call is the prompt (skipped), then one token per call
                if not self.next_tokens_are_prompt:
                    generation.completion_tokens += int(value.numel())
                super().put(value)

        streamer = CountingStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = self.generate_kwargs(input_ids, params)
        kwargs.update(streamer=streamer, stopping_criteria=StoppingCriteriaList([stop]))
        failure: list[BaseException] = []

        def work() -> None:
            try:
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                with torch.inference_mode():
                    self.model.generate(**kwargs)
            except BaseException as exc:  # noqa: BLE001 - reported to the consumer below
                failure.append(exc)
                streamer.end()

        def pieces() -> Iterator[str]:
            worker = threading.Thread(target=work, daemon=True, name="medadapt-generate")
            worker.start()
            ended = False

            def streamed() -> Iterator[str]:
                nonlocal ended
                yield from streamer
                ended = True  # the streamer is exhausted: nothing left to drain

            try:
                yield from cut_at_stop(streamed(), params.stop, stop)
                if failure:
                    raise failure[0]
                if generation.completion_tokens >= params.max_new_tokens and not stop.event.is_set():
                    generation.finish_reason = "length"
            finally:
                stop.set()  # a consumer that stops early (Ctrl-C, disconnect, guard) ends the worker too
                if not ended:
                    for _ in streamer:  # drain what was produced before the stop took effect
                        pass
                worker.join()

        generation = Generation(pieces(), len(ids))
        return generation
