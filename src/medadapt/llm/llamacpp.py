"""A GGUF model through llama.cpp (llama-cpp-python, ``pip install 'medadapt[llamacpp]'``): the fast way to run a
small model on an ordinary CPU, for chat, serve, free-form evaluation (``LlamaCppGenerator``) and the generate
stage (``LlamaCppBackend``, ``backend.kind: llamacpp``).

The conversation is rendered with the chat template embedded in the GGUF (or the one named) through the same
Jinja renderer transformers uses, so a prompt is the text training rendered; llama.cpp only tokenises it
(special tokens parsed, no BOS added: the template writes it) and generates. The streaming protocol is the
transformers ``Generator``'s: ``stream(messages, params, stop) -> Generation``, counting every generated
token (the end-of-turn one included) and ending on the vocabulary's end-of-generation tokens, so the safety
layer, the server's limits and the benchmarks treat both alike.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medadapt.errors import ModelError
from medadapt.llm.backend import ChatRequest, Completion
from medadapt.llm.batched import BatchedBackend
from medadapt.llm.errors import LLMError
from medadapt.llm.streaming import Generation, GenParams, StopFlag, cut_at_stop
from medadapt.models.templates import ChatTemplate

NOT_INSTALLED = ("llama-cpp-python is not installed: pip install 'medadapt[llamacpp]' (it compiles llama.cpp, a few "
                 "minutes), or run `make install`")
MAX_CONTEXT = 8192  # the KV cache is allocated up front; a model trained on more gets this much


def is_gguf(reference: str | Path) -> bool:
    """A reference to a GGUF file (``.gguf``), which only llama.cpp loads as it is."""
    return str(reference).lower().endswith(".gguf")


def import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ModuleNotFoundError as exc:
        if exc.name != "llama_cpp":
            raise
        raise LLMError(NOT_INSTALLED, field="llamacpp") from None
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's own log: errors only
    return llama_cpp


def cpu_threads() -> int:
    """The CPUs this process may use (llama-cpp-python's default is half of them)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def trained_context(path: Path) -> int:
    """The context length the model was trained with, read with its vocabulary only (the KV cache is sized when
    the model loads, so it must be known before)."""
    llama_cpp = import_llama_cpp()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelError("llama.cpp cannot read it as a GGUF model", file=str(path))
    try:  # a vocabulary-only load leaves the hyper-parameters unread (n_ctx_train is 0): read the metadata
        arch = _meta(llama_cpp, model, "general.architecture")
        return int(_meta(llama_cpp, model, f"{arch}.context_length") or MAX_CONTEXT)
    finally:
        llama_cpp.llama_model_free(model)


def _meta(llama_cpp: Any, model: Any, key: str) -> str:
    buffer = ctypes.create_string_buffer(256)
    size = llama_cpp.llama_model_meta_val_str(model, key.encode(), buffer, len(buffer))
    return buffer.value.decode() if size >= 0 else ""


class LlamaCppGenerator:
    """A GGUF model loaded by llama.cpp that streams replies to chat messages, one at a time (a lock keeps two
    server slots from sharing its context)."""

    def __init__(self, path: str | Path, model_id: str = "medadapt", chat_template: ChatTemplate | None = None,
                 max_context: int = MAX_CONTEXT):
        llama_cpp = import_llama_cpp()
        self._llama_cpp = llama_cpp
        path = Path(path)
        if not path.is_file():
            raise ModelError("no such GGUF file", file=str(path))
        threads = cpu_threads()
        try:
            self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=min(trained_context(path), max_context),
                                       n_threads=threads, n_threads_batch=threads, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama.cpp cannot load it: {exc}", file=str(path)) from None
        self.path = path
        self.model_id = model_id
        self.context_window = self.llm.n_ctx()
        self.chat_template = chat_template.template if chat_template else self.llm.metadata.get("tokenizer.chat_template")
        if not self.chat_template:
            raise ModelError("the GGUF has no chat template (tokenizer.chat_template); name one with --chat-template",
                             file=str(path))
        self.bos_token = self._token_text(self.llm.token_bos())
        self.eos_token = chat_template.eos_token if chat_template and chat_template.eos_token else \
            self._token_text(self.llm.token_eos())
        self._stop_ids = set(self.llm.tokenize(self.eos_token.encode(), add_bos=False, special=True)) \
            if chat_template and chat_template.eos_token else set()
        self._lock = threading.Lock()

    def _token_text(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

    def prompt_text(self, messages: list[dict[str, str]]) -> str:
        from transformers.utils.chat_template_utils import render_jinja_template

        rendered, _ = render_jinja_template([messages], chat_template=self.chat_template, add_generation_prompt=True,
                                            bos_token=self.bos_token, eos_token=self.eos_token)
        return rendered[0]

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        return self.llm.tokenize(self.prompt_text(messages).encode("utf-8"), add_bos=False, special=True)

    def _ends_turn(self, token: int) -> bool:
        return token in self._stop_ids or bool(self._llama_cpp.llama_vocab_is_eog(self.llm._model.vocab, token))

    def stream(self, messages: list[dict[str, str]], params: GenParams, stop: StopFlag | None = None,
               prompt_ids: list[int] | None = None) -> Generation:
        ids = prompt_ids if prompt_ids is not None else self.prompt_ids(messages)
        stop = stop or StopFlag()
        generation: Generation

        def tokens() -> Iterator[str]:
            """Text as each token is decoded (UTF-8 sequences split over tokens held until complete)."""
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self.llm.set_seed(params.seed if params.seed is not None else self._llama_cpp.LLAMA_DEFAULT_SEED)
            sampled = self.llm.generate(ids, temp=params.temperature, top_p=params.top_p, top_k=50, min_p=0.0,
                                        repeat_penalty=params.repetition_penalty)
            try:
                for token in sampled:
                    generation.completion_tokens += 1
                    if self._ends_turn(token):
                        return
                    text = decoder.decode(self.llm.detokenize([token]))
                    if text:
                        yield text
                    if stop.event.is_set():
                        return
                    if generation.completion_tokens >= params.max_new_tokens:
                        generation.finish_reason = "length"
                        return
            finally:
                sampled.close()

        def pieces() -> Iterator[str]:
            with self._lock:
                yield from cut_at_stop(tokens(), params.stop, stop)

        generation = Generation(pieces(), len(ids))
        return generation


class LlamaCppBackend(BatchedBackend):
    """``backend.kind: llamacpp`` in the generate stage: a GGUF answering requests one after another (llama.cpp
    in this process decodes one sequence at a time; a batch is a loop)."""

    kind = "llamacpp"

    def __init__(self, model: str, batch_size: int, chat_template: ChatTemplate | None = None):
        super().__init__(batch_size)
        self.model = model
        self._generator = LlamaCppGenerator(model, chat_template=chat_template)

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        completions = []
        for request in requests:
            params = GenParams(max_new_tokens=request.max_tokens, temperature=request.temperature, top_p=1.0,
                               repetition_penalty=1.0)
            generation = self._generator.stream(request.message_dicts(), params)
            text = "".join(generation)
            completions.append(Completion(text=text.strip(), finish_reason=generation.finish_reason,
                                          prompt_tokens=generation.prompt_tokens,
                                          completion_tokens=generation.completion_tokens))
        return completions
