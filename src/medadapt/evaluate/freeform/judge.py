"""A pairwise LLM judge: which of two models answered each question better.

Every question is judged twice, with model A's answer shown first and then B's, because LLM judges favour a
position. The two verdicts combine per question, from A's side:

* both say the same (A better / B better / tie) → that result;
* they disagree (the verdict followed the position, or one order said tie) → **tie**;
* either verdict is unparsable or its request failed → the question is not scored (counted, never guessed).

Win rate scores win 1, tie 0.5, loss 0, with a seeded bootstrap 95 % interval. Position bias is reported as
the share of parsed verdicts that chose the answer shown first, and the share of scored questions whose
verdict changed with the order (``flip_rate``).

The judge is any generate backend behind the cached Client, so a re-run asks only what is missing. Its
prompts are data (``judge_prompts/<lang>.yaml``, or a folder of the user's own), and its reply must be the
documented JSON: ``{"better": "1" | "2" | "tie", "reason": "…"}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml

from medadapt.evaluate.metrics import mean_with_ci
from medadapt.llm.backend import ChatRequest
from medadapt.llm.client import Client
from medadapt.llm.config import BackendConfig
from medadapt.llm.errors import LLMError, MalformedResponse, RequestFailed
from medadapt.llm.parsing import json_object
from medadapt.llm.prompts import Prompt, read_prompt

JUDGE_PROMPTS = ("pairwise", "kqa")
BETTER = ("1", "2", "tie")
T = TypeVar("T")


class JudgePrompts:
    """The judge's prompt per language: ``<override>/<lang>.yaml`` when that file exists, else the shipped
    ``evaluate/freeform/judge_prompts/<lang>.yaml``. ``lang`` fixes one language for every question."""

    def __init__(self, override_dir: Path | None = None, lang: str | None = None):
        self.override_dir = override_dir
        self.lang = lang
        self._loaded: dict[str, dict[str, Prompt]] = {}

    def file(self, lang: str) -> Path:
        if self.override_dir is not None and (self.override_dir / f"{lang}.yaml").is_file():
            return self.override_dir / f"{lang}.yaml"
        return Path(str(resources.files("medadapt.evaluate.freeform").joinpath("judge_prompts", f"{lang}.yaml")))

    def _load(self, lang: str) -> dict[str, Prompt]:
        path = self.file(lang)
        if not path.is_file():
            raise LLMError(f"no judge prompts for language {lang!r}: add {lang}.yaml to a judge prompts folder "
                           f"(see evaluate/freeform/judge_prompts/en.yaml) or set the judge's prompt language",
                           file=str(path.parent))
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return {name: read_prompt(raw.get(name), path, name) for name in JUDGE_PROMPTS}

    def get(self, name: str, question_lang: str) -> Prompt:
        lang = self.lang or question_lang
        if lang not in self._loaded:
            self._loaded[lang] = self._load(lang)
        return self._loaded[lang][name]

    def hashes(self) -> dict[str, dict[str, str]]:
        """Language → prompt → hash, of every prompt used so far (provenance for the summary files)."""
        return {lang: {name: p.hash for name, p in prompts.items()} for lang, prompts in self._loaded.items()}


@dataclass
class Verdict:
    value: str | None  # the parsed label; None when unparsable or failed
    reason: str = ""
    raw: str | None = None  # the judge's reply, kept when it could not be parsed
    unparsable: str | None = None  # why the reply could not be read
    failed: str | None = None  # why the request itself failed (retried on the next run)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def reply_label(text: str, key: str, labels: tuple[str, ...]) -> tuple[str, str]:
    """(label, reason) from a judge's JSON reply; MalformedResponse when ``key`` is not one of ``labels``
    (numbers 1 and 2 are read as "1" and "2", nothing else is interpreted)."""
    value = json_object(text)
    got = value.get(key)
    label = str(got).strip().lower() if isinstance(got, (str, int)) and not isinstance(got, bool) else None
    if label not in labels:
        raise MalformedResponse(f"{key}: expected one of {', '.join(labels)}, got {got!r}", text)
    reason = value.get("reason", "")
    return label, reason if isinstance(reason, str) else str(reason)


async def ask_judge(client: Client, prompt: Prompt, values: dict[str, str], max_tokens: int, key: str,
                    labels: tuple[str, ...]) -> Verdict:
    """One judgement: the reply's label, or why there is none."""
    try:
        completion = await client.ask(ChatRequest(prompt.messages(**values), max_tokens=max_tokens))
    except RequestFailed as exc:
        return Verdict(None, failed=exc.one_line())
    try:
        label, reason = reply_label(completion.text, key, labels)
    except MalformedResponse as exc:
        return Verdict(None, raw=exc.raw, unparsable=exc.reason)
    return Verdict(label, reason)


def run_judge(config: BackendConfig, default_model: str, recipe_dir: Path, cache_path: Path,
              work: Callable[[Client], Awaitable[T]]) -> tuple[T, dict[str, Any]]:
    """Run ``work`` with a cached client of the judge backend; (its result, the request usage). The API key
    is read from the environment variable the config names, inside ``make_backend``."""
    from medadapt.llm.cache import RequestCache
    from medadapt.llm.factory import make_backend
    from medadapt.llm.pricing import price_for

    model = config.model or default_model
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = RequestCache(cache_path)
    try:
        backend = make_backend(config, model, None, recipe_dir)
        client = Client(backend, cache, price_for(config, model))

        async def run() -> T:
            try:
                return await work(client)
            finally:
                await backend.aclose()

        result = asyncio.run(run())
    finally:
        cache.close()
    return result, client.usage.as_dict()


def raise_if_failed(failed: list[str]) -> None:
    """After the outputs are written: fail the run when judge requests failed, so a re-run retries them."""
    if failed:
        raise LLMError(f"{len(failed)} judge requests failed after retries (first: {failed[0]}); run again to "
                       f"retry them (every answered request is cached)")


def _from_a(verdict: Verdict, a_first: bool) -> str | None:
    """A verdict as A's result (win / loss / tie), given which answer was shown first."""
    if verdict.value is None:
        return None
    if verdict.value == "tie":
        return "tie"
    return "win" if (verdict.value == "1") == a_first else "loss"


def combine(a_first: Verdict, b_first: Verdict) -> tuple[str | None, bool | None]:
    """(the question's result for A, whether the verdict flipped with the order): the same verdict in both
    orders, a tie when they disagree; (None, None) when either is missing."""
    first, second = _from_a(a_first, True), _from_a(b_first, False)
    if first is None or second is None:
        return None, None
    return (first, False) if first == second else ("tie", True)


async def judge_pair(client: Client, prompts: JudgePrompts, answers_a: list[dict[str, Any]],
                     answers_b: list[dict[str, Any]], max_tokens: int) -> list[dict[str, Any]]:
    """One row per question both models answered (same id, same question): both verdicts and the combined
    result for A."""
    by_id_b = {row["id"]: row for row in answers_b}
    shared = [(a, by_id_b[a["id"]]) for a in answers_a
              if a["id"] in by_id_b and by_id_b[a["id"]]["question"] == a["question"]]

    async def verdict(a: dict[str, Any], b: dict[str, Any], a_first: bool) -> Verdict:
        first, second = (a, b) if a_first else (b, a)
        values = {"question": a["question"], "reference": a.get("reference") or "",
                  "answer_1": first["answer"], "answer_2": second["answer"]}
        return await ask_judge(client, prompts.get("pairwise", a["lang"]), values, max_tokens, "better", BETTER)

    verdicts = await asyncio.gather(*(verdict(a, b, order) for a, b in shared for order in (True, False)))
    rows = []
    for (a, b), first, second in zip(shared, verdicts[0::2], verdicts[1::2]):
        result, flipped = combine(first, second)
        rows.append({"id": a["id"], "lang": a["lang"], "model_a": a["model"], "model_b": b["model"],
                     "a_first": first.as_dict(), "b_first": second.as_dict(), "result": result, "flipped": flipped})
    return rows


def pairwise_failures(rows: list[dict[str, Any]]) -> list[str]:
    return [v["failed"] for row in rows for v in (row["a_first"], row["b_first"]) if "failed" in v]


def pairwise_summary(rows: list[dict[str, Any]], label_a: str, label_b: str) -> dict[str, Any]:
    """Win/tie/loss for A against B, the win rate (tie = half) with its interval, and position bias."""
    results = [row["result"] for row in rows if row["result"] is not None]
    verdicts = [row[order] for row in rows for order in ("a_first", "b_first")]
    parsed = [v["value"] for v in verdicts if "value" in v]
    counts = {outcome: results.count(outcome) for outcome in ("win", "tie", "loss")}
    score = mean_with_ci([{"win": 1.0, "tie": 0.5, "loss": 0.0}[r] for r in results])
    share = (lambda k, n: round(k / n, 4) if n else None)  # noqa: E731
    return {
        "model_a": label_a, "model_b": label_b, "questions": len(rows), "scored": len(results),
        "wins": counts["win"], "ties": counts["tie"], "losses": counts["loss"],
        "rates": {k: share(v, len(results)) for k, v in counts.items()},
        "win_rate": score["mean"], "win_rate_ci95": score["ci95"],
        "verdicts": {"sent": len(verdicts), "parsed": len(parsed),
                     "unparsable": sum("unparsable" in v for v in verdicts), "failed": len(pairwise_failures(rows))},
        "position_bias": {"first_shown_share": share(parsed.count("1"), len(parsed)),
                          "flip_rate": share(sum(bool(row["flipped"]) for row in rows), len(results))},
    }


def judge_about(backend: BackendConfig, model: str, prompts: JudgePrompts, usage: dict[str, Any]) -> dict[str, Any]:
    """What judge.json and kqa.json say about the judge: which backend and model, the prompts' hashes, and how
    many requests were sent or came from the cache."""
    return {"backend": backend.kind, "model": model, "prompts": prompts.hashes(), "requests": usage}


def write_pairwise(out: Path, judged: dict[tuple[str, str], list[dict[str, Any]]], about: dict[str, Any]
                   ) -> dict[str, dict[str, Any]]:
    """judgements.jsonl (every verdict of every pair) and judge.json; returns each pair's summary by "A vs B"."""
    from medadapt.records.jsonl import write_json, write_jsonl

    write_jsonl(out / "judgements.jsonl", [row for rows in judged.values() for row in rows])
    results = {f"{a} vs {b}": pairwise_summary(rows, a, b) for (a, b), rows in judged.items()}
    write_json(out / "judge.json", {"pairs": results, "judge": about})
    return results
