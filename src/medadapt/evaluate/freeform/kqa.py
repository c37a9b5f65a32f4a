"""K-QA's checks of free-form answers against the physicians' statements kept with each question (the kqa
mapping keeps ``Must_have`` and ``Nice_to_have`` under the record's ``meta``), as the K-QA paper scores them:

* **comprehensiveness**: the share of a question's Must_have statements the answer covers; per question,
  and the mean over questions with a bootstrap 95 % interval;
* **hallucination rate**: the share of answers that contradict at least one statement (Must_have or
  Nice_to_have).

The judge gets one request per (answer, statement) and must reply with the documented JSON:
``{"verdict": "covered" | "contradicted" | "neither", "reason": "…"}``. Unreadable replies and failed
requests are counted and never guessed: a question lacking a readable verdict for one of its Must_have
statements has no comprehensiveness; its hallucination is known only when a readable verdict says
"contradicted" or every verdict is readable.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

from medadapt.evaluate.freeform.judge import JudgePrompts, Verdict, ask_judge
from medadapt.evaluate.metrics import mean_with_ci
from medadapt.llm.client import Client
from medadapt.records.quarantine import rejection

MUST_HAVE, NICE_TO_HAVE = "Must_have", "Nice_to_have"
VERDICTS = ("covered", "contradicted", "neither")


def statements(row: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(Must_have, Nice_to_have) of an answer row; ValueError naming the field when one is not a list of texts."""
    meta = row.get("meta") or {}
    found = []
    for key in (MUST_HAVE, NICE_TO_HAVE):
        value = meta.get(key) or []
        if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
            raise ValueError(f"meta.{key}: expected a list of non-empty texts, got {value!r:.80}")
        found.append([s.strip() for s in value])
    return found[0], found[1]


def question_scores(must: list[Verdict], nice: list[Verdict]) -> dict[str, Any]:
    """Counts, comprehensiveness and hallucination of one answer from its statement verdicts."""
    everything = must + nice
    readable = all(v.value is not None for v in everything)
    covered = sum(v.value == "covered" for v in must)
    contradicted = sum(v.value == "contradicted" for v in everything)
    must_readable = bool(must) and all(v.value is not None for v in must)
    return {
        "must_have": len(must), "nice_to_have": len(nice), "covered": covered, "contradicted": contradicted,
        "unparsable": sum(v.unparsable is not None for v in everything),
        "failed": sum(v.failed is not None for v in everything),
        "comprehensiveness": round(covered / len(must), 4) if must_readable else None,
        "hallucination": True if contradicted else (False if readable else None),
    }


async def check_answers(client: Client, prompts: JudgePrompts, rows: list[dict[str, Any]], max_tokens: int,
                        where: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(one checked row per answer that carries statements, quarantine entries for malformed statements).
    ``where`` names the answers file in rejection reasons."""
    todo, rejected = [], []
    for number, row in enumerate(rows, start=1):
        try:
            must, nice = statements(row)
        except ValueError as exc:
            field, message = str(exc).split(": ", 1)
            rejected.append(rejection(where, number, field, message, row, stage="evaluate", step="kqa",
                                      rule="invalid_row"))
            continue
        if must or nice:
            todo.append((row, must, nice))

    async def verdict(row: dict[str, Any], statement: str) -> Verdict:
        values = {"question": row["question"], "answer": row["answer"], "statement": statement}
        return await ask_judge(client, prompts.get("kqa", row["lang"]), values, max_tokens, "verdict", VERDICTS)

    found = iter(await asyncio.gather(*(verdict(row, s) for row, must, nice in todo for s in must + nice)))
    checked = []
    for row, must, nice in todo:
        must_v, nice_v = [next(found) for _ in must], [next(found) for _ in nice]
        listed = [{"kind": kind, "statement": s, **v.as_dict()}
                  for kind, texts, verdicts in ((MUST_HAVE, must, must_v), (NICE_TO_HAVE, nice, nice_v))
                  for s, v in zip(texts, verdicts)]
        checked.append({"id": row["id"], "lang": row["lang"], "model": row["model"],
                        **question_scores(must_v, nice_v), "statements": listed})
    return checked, rejected


def statement_failures(checked: list[dict[str, Any]]) -> list[str]:
    return [s["failed"] for row in checked for s in row["statements"] if "failed" in s]


def kqa_summary(checked: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model: mean comprehensiveness and hallucination rate with their intervals, and what went unscored."""
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in checked:
        by_model[row["model"]].append(row)
    summary = {}
    for label, group in by_model.items():
        scored = [r["comprehensiveness"] for r in group if r["comprehensiveness"] is not None]
        hallucinated = [float(r["hallucination"]) for r in group if r["hallucination"] is not None]
        summary[label] = {
            "answers_checked": len(group),
            "comprehensiveness": mean_with_ci(scored),
            "hallucination_rate": mean_with_ci(hallucinated),
            "statements": {"checked": sum(r["must_have"] + r["nice_to_have"] for r in group),
                           "unparsable": sum(r["unparsable"] for r in group), "failed": sum(r["failed"] for r in group)},
            "unscored": {"comprehensiveness": len(group) - len(scored), "hallucination": len(group) - len(hallucinated)},
        }
    return summary


def write_kqa(out: Path, checked: list[dict[str, Any]], rejected: list[dict[str, Any]], about: dict[str, Any]
              ) -> dict[str, dict[str, Any]]:
    """kqa.jsonl (every statement's verdict) and kqa.json; returns the figures per model."""
    from medadapt.records.jsonl import write_json, write_jsonl

    write_jsonl(out / "kqa.jsonl", checked)
    models = kqa_summary(checked)
    write_json(out / "kqa.json", {"models": models, "rejected": len(rejected), "judge": about})
    return models
