"""LLM-as-judge (MMed-IFT): logical consistency, factual accuracy and sound reasoning, each 0–1. A record is
kept when every criterion reaches ``keep_threshold``; the others go to rejected.jsonl with their scores.

The prompt gets the record's ``passage`` and rationale too (qa_generate writes both), so a prompt set whose
judge asks for them (mmed-ift) grades a generated pair against the text it came from; the default prompt
does not use them. With ``judges`` every judge grades every record and a record is kept only when all keep
it (MMed-IFT's two judges); each verdict is kept in ``judges`` for inspection, ``judge`` is the lowest score
per criterion (the one that decided)."""

from __future__ import annotations

import asyncio
from typing import Any

from medadapt.generate.config import JudgeTask
from medadapt.generate.parsing import LETTERS, judge_scores
from medadapt.generate.tasks.base import ItemResult, TaskRunner
from medadapt.llm.client import Client
from medadapt.llm.errors import MalformedResponse
from medadapt.records.kinds import MCQARecord, QARecord

CRITERIA = ("logical_consistency", "factual_accuracy", "sound_reasoning")


def judged_pair(record: QARecord | MCQARecord, kind: str) -> dict[str, str]:
    """The prompt values of one record: an MCQA's options go with its question, its correct option is the
    answer and its explanation the rationale."""
    extra = record.model_extra or {}
    values = {"passage": str(extra.get("passage") or "")}
    if kind == "mcqa":
        options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(record.choices))
        return values | {"question": f"{record.question}\n{options}",
                         "answer": f"{LETTERS[record.answer]}. {record.choices[record.answer]}",
                         "rationale": record.explanation or ""}
    return values | {"question": record.question, "answer": record.answer,
                     "rationale": str(extra.get("rationale") or "")}


class JudgeRunner(TaskRunner):
    config: JudgeTask

    @property
    def record_kind(self) -> str:  # type: ignore[override]
        return self.config.format

    def _low(self, scores: dict[str, float]) -> list[str]:
        return [f"{name} {value:g} < {self.config.keep_threshold:g}" for name, value in scores.items()
                if value < self.config.keep_threshold]

    async def _verdict(self, record: QARecord | MCQARecord, client: Client) -> dict[str, Any]:
        completion = await self.ask(record.lang, "judge", via=client, **judged_pair(record, self.config.format))
        scores = judge_scores(completion.text, CRITERIA)
        return {"backend": client.backend.kind, "model": client.backend.model, "scores": scores,
                "keep": not self._low(scores)}

    async def process(self, record: QARecord | MCQARecord) -> ItemResult:
        several = bool(self.env.judges)
        clients = self.env.judges or [self.env.client]
        answers = await asyncio.gather(*(self._verdict(record, c) for c in clients), return_exceptions=True)
        for answer in answers:
            if isinstance(answer, BaseException) and not isinstance(answer, MalformedResponse):
                raise answer  # budget, failed request: the runner leaves the item for the next run
        verdicts = [a for a in answers if isinstance(a, dict)]
        detail = {"judges": verdicts} if several else {}
        if several:  # per judge, for stats.json: how often each one kept or refused
            for verdict in verdicts:
                tally = self.notes.setdefault("judges", {}).setdefault(verdict["model"], {"kept": 0, "refused": 0})
                tally["kept" if verdict["keep"] else "refused"] += 1
        for client, answer in zip(clients, answers):
            if isinstance(answer, MalformedResponse):
                if several:
                    answer = MalformedResponse(f"{client.backend.model}: {answer.reason}", answer.raw)
                return self.malformed(record, "judge", answer, **detail)
        if refused := [v for v in verdicts if not v["keep"]]:
            why = "; ".join((f"{v['model']}: " if several else "") + ", ".join(self._low(v["scores"])) for v in refused)
            return ItemResult(rejected=[self.rejected(record, "judge", "below the keep threshold: " + why,
                                                      **(detail or {"judge": verdicts[0]["scores"]}))])
        lowest = {name: min(v["scores"][name] for v in verdicts) for name in CRITERIA}
        row = record.model_dump(mode="json", exclude_none=True) | {
            "judge": lowest, **detail, "generation": self.provenance(record, record.lang, ("judge",)),
        }
        return ItemResult(outputs={self.name: [row]})
