"""Free-form answers to held-out questions, timed: what the papers' inference-time tables report (time to
first token, tokens per second, answer length, wall time per answer), and the input of the LLM judge.

An :class:`Answerer` turns a question into a :class:`TimedAnswer`; a local model streams through
``Generator.stream``, a served model answers through any generate backend, a translate pipeline wraps a local
model between two translations. Answers are appended to a JSONL
file as they come, so a re-run after a kill answers only what is missing; answers made by another model or
with other settings (a different *identity*) are discarded rather than reused.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.progress import Progress

from medadapt.errors import DataError
from medadapt.llm.backend import Backend, ChatRequest
from medadapt.llm.errors import MalformedResponse
from medadapt.records.jsonl import write_jsonl
from medadapt.records.kinds import QARecord
from medadapt.runs.hashing import hash_json

if TYPE_CHECKING:
    from medadapt.evaluate.translator import Translator


@dataclass(frozen=True)
class TimedAnswer:
    text: str
    ttft_s: float  # time to the first visible text; the wall time when the answer was not streamed
    tokens: int | None  # completion tokens; None when a server does not report them
    wall_s: float
    streamed: bool


class Answerer(Protocol):
    """What the free-form evaluation needs of a model. One that holds connections also has ``close()``, which
    its user calls when present."""

    label: str  # the model's name in every output (base, trained, pipeline:…)
    identity: dict[str, Any]  # what makes its answers what they are; answers of another identity are not reused

    def answer(self, question: str, lang: str) -> TimedAnswer: ...


def chat_messages(question: str, system_prompt: str | None) -> list[dict[str, str]]:
    return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
        {"role": "user", "content": question}]


def content_stamp(path: Path) -> str:
    """Names, sizes and modification times of a model or adapter folder's files: a re-trained model in the
    same folder gets a new stamp without reading gigabytes."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return hash_json([(str(f.relative_to(path)) if f != path else f.name, f.stat().st_size, f.stat().st_mtime_ns)
                      for f in files])


class LocalAnswerer:
    """A model on this machine, streamed exactly as ``medadapt chat`` streams it, but greedy."""

    def __init__(self, label: str, generator: Any, max_new_tokens: int, system_prompt: str | None = None,
                 repetition_penalty: float = 1.0, identity: dict[str, Any] | None = None):
        self.label = label
        self.generator = generator
        self.max_new_tokens = max_new_tokens
        self.system_prompt = system_prompt
        self.repetition_penalty = repetition_penalty
        self.identity = {**(identity or {"model": generator.model_id}), "max_new_tokens": max_new_tokens,
                         "system_prompt": system_prompt, "repetition_penalty": repetition_penalty, "decoding": "greedy"}

    @classmethod
    def load(cls, label: str, reference: str, adapter: Path | None, *, max_new_tokens: int,
             system_prompt: str | None = None, repetition_penalty: float = 1.0, chat_template: Any = None,
             trust_remote_code: bool = False) -> LocalAnswerer:
        """Load ``reference`` (+ ``adapter``) as chat loads it (a .gguf file through llama.cpp); ``chat_template``
        (a ChatTemplate) for a model that has none; ``trust_remote_code``: the recipe's key."""
        from medadapt.llm.generators import load_generator

        generator = load_generator(reference, adapter, chat_template, label, trust_remote_code)
        identity = {"model": reference, "adapter": str(adapter) if adapter else None,
                    "chat_template": generator.chat_template,
                    "stamp": [content_stamp(p) for p in (Path(reference), adapter) if p is not None and p.exists()]}
        return cls(label, generator, max_new_tokens, system_prompt, repetition_penalty, identity)

    def answer(self, question: str, lang: str) -> TimedAnswer:
        from medadapt.llm.streaming import GenParams

        params = GenParams(max_new_tokens=self.max_new_tokens, temperature=0.0,
                           repetition_penalty=self.repetition_penalty)
        start = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        generation = self.generator.stream(chat_messages(question, self.system_prompt), params)
        try:
            for piece in generation:
                if first is None and piece.strip():
                    first = time.perf_counter()
                pieces.append(piece)
        finally:
            generation.close()
        end = time.perf_counter()
        # no visible text at all: the user waited the whole time for nothing, so TTFT is the wall time
        return TimedAnswer("".join(pieces).strip(), (first or end) - start, generation.completion_tokens,
                           end - start, streamed=True)


class BackendAnswerer:
    """A model behind any generate backend (vLLM, TGI, a hosted API…). Requests go one at a time straight to
    the backend, not through the request cache: a cached answer has no latency, and concurrent requests would
    time the queue. The answer is not streamed, so its TTFT is its wall time (``streamed: false``)."""

    def __init__(self, label: str, backend: Backend, max_new_tokens: int, system_prompt: str | None = None):
        self.label = label
        self.backend = backend
        self.max_new_tokens = max_new_tokens
        self.system_prompt = system_prompt
        self.identity = {"backend": backend.kind, "model": backend.model, "url": getattr(backend, "url", None),
                         "max_new_tokens": max_new_tokens, "system_prompt": system_prompt, "decoding": "greedy"}
        self._loop = asyncio.new_event_loop()  # one loop for the backend's whole life: its connections live in it

    def answer(self, question: str, lang: str) -> TimedAnswer:
        messages = tuple((m["role"], m["content"]) for m in chat_messages(question, self.system_prompt))
        start = time.perf_counter()
        completion = self._loop.run_until_complete(self.backend.complete(ChatRequest(messages, self.max_new_tokens)))
        wall = time.perf_counter() - start
        return TimedAnswer(completion.text.strip(), wall, completion.completion_tokens or None, wall, streamed=False)

    def close(self) -> None:
        self._loop.run_until_complete(self.backend.aclose())
        self._loop.close()


class PipelineAnswerer:
    """A free-form answerer: the question into the pivot language, the pivot model's answer, the answer back.
    Nothing is shown before the answer is back in the user's language, so TTFT is the wall time."""

    def __init__(self, label: str, inner: LocalAnswerer, translator: Translator):
        self.label = label
        self.inner = inner
        self.translator = translator
        self.identity = {**inner.identity, "pipeline": translator.config.model_dump(mode="json")}

    def _translate(self, key: str, text: str, source: str, target: str) -> str:
        try:
            return self.translator.run(self.translator.fields({key: text}, source, target))[key]
        except MalformedResponse:  # an unreadable translation: the text goes on in its own language
            return text

    def answer(self, question: str, lang: str) -> TimedAnswer:
        pivot = self.translator.config.pivot_lang
        start = time.perf_counter()
        asked = self._translate("question", question, lang, pivot) if lang != pivot else question
        inner = self.inner.answer(asked, pivot)
        text = self._translate("answer", inner.text, pivot, lang) if lang != pivot and inner.text else inner.text
        wall = time.perf_counter() - start
        return TimedAnswer(text, wall, inner.tokens, wall, streamed=False)

    def close(self) -> None:
        self.translator.close()


def load_questions(path: Path, fmt: str = "qa", limit: int | None = None, base_dir: Path | None = None
                   ) -> tuple[list[QARecord], list[dict[str, Any]]]:
    """Question/answer records from any file the record importers read, and the rows they rejected."""
    from medadapt.records.importers import import_file

    result = import_file(path, fmt, base_dir=base_dir, stage="evaluate")
    if result.kind != "qa":
        raise DataError(f"format {fmt!r} gives {result.kind} records, not qa", file=str(path))
    records = result.records[:limit] if limit else result.records
    return records, result.rejected


def answer_row(answerer: Answerer, fingerprint: str, record: QARecord, timed: TimedAnswer) -> dict[str, Any]:
    row = {"id": record.id, "lang": record.lang, "model": answerer.label, "answerer": fingerprint,
           "question": record.question, "reference": record.answer, "answer": timed.text,
           "ttft_s": round(timed.ttft_s, 4), "tokens": timed.tokens, "wall_s": round(timed.wall_s, 4),
           "tokens_per_s": round(timed.tokens / timed.wall_s, 2) if timed.tokens and timed.wall_s > 0 else None,
           "streamed": timed.streamed}
    meta = getattr(record, "meta", None)
    if meta:
        row["meta"] = meta  # K-QA's physician statements travel with the answer to the kqa check
    return row


def read_answers(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The rows of an answers file and how many lines could not be read (a write cut short by a kill)."""
    if not path.is_file():
        return [], 0
    rows, broken = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            broken += 1
    return rows, broken


def answer_questions(answerer: Answerer, records: list[QARecord], path: Path, console: Console) -> list[dict[str, Any]]:
    """``answerer``'s answer to every record, in record order, appended to ``path`` as each one comes.

    Rows already in ``path`` from the same answerer (same label and identity, same question) are reused; rows
    of this label made by another identity or for a changed question are removed from the file."""
    fingerprint = hash_json(answerer.identity)[:16]
    questions = {r.id: r.question for r in records}
    rows, broken = read_answers(path)

    def stale(row: dict[str, Any]) -> bool:
        return row.get("model") == answerer.label and (
            row.get("answerer") != fingerprint or questions.get(row.get("id"), row.get("question")) != row.get("question"))

    kept = [row for row in rows if not stale(row)]
    if broken or len(kept) != len(rows):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(path, kept)
        if len(kept) != len(rows):
            console.print(f"{answerer.label}: {len(rows) - len(kept)} earlier answers discarded (another model, other "
                          f"settings or a changed question)")
    done = {row["id"]: row for row in kept if row.get("model") == answerer.label}
    todo = [r for r in records if r.id not in done]
    if len(todo) < len(records):
        console.print(f"{answerer.label}: {len(records) - len(todo)} answers reused from {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle, Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"answering · {answerer.label}", total=len(todo))
        for record in todo:
            row = answer_row(answerer, fingerprint, record, answerer.answer(record.question, record.lang))
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            done[record.id] = row
            progress.advance(task)
    return [done[r.id] for r in records]


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def latency_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model: mean and median TTFT, tokens per second (all tokens over all wall time), mean answer length
    in tokens and in words, mean wall time per answer. Token figures are None when a server did not report
    token counts."""
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_model[row["model"]].append(row)
    summary = {}
    for label, group in by_model.items():
        counted = all(r["tokens"] is not None for r in group)
        wall = sum(r["wall_s"] for r in group)
        summary[label] = {
            "n": len(group),
            "streamed": all(r["streamed"] for r in group),
            "mean_ttft_s": _mean([r["ttft_s"] for r in group]),
            "median_ttft_s": round(statistics.median(r["ttft_s"] for r in group), 4),
            "tokens_per_s": round(sum(r["tokens"] for r in group) / wall, 2) if counted and wall > 0 else None,
            "mean_answer_tokens": _mean([r["tokens"] for r in group]) if counted else None,
            "mean_answer_words": _mean([len(r["answer"].split()) for r in group]),
            "mean_wall_s": _mean([r["wall_s"] for r in group]),
        }
    return summary
