"""LLM-as-judge (MMed-IFT): logical consistency, factual accuracy and sound reasoning, each 0–1. A record is
kept when every criterion reaches ``keep_threshold``; the others go to rejected.jsonl with their scores."""

from __future__ import annotations

from medadapt.records.kinds import QARecord
from medadapt.generate.parsing import judge_scores
from medadapt.generate.tasks.base import ItemResult, TaskRunner
from medadapt.llm.errors import MalformedResponse

CRITERIA = ("logical_consistency", "factual_accuracy", "sound_reasoning")


class JudgeRunner(TaskRunner):
    record_kind = "qa"

    async def process(self, record: QARecord) -> ItemResult:
        completion = await self.ask(record.lang, "judge", question=record.question, answer=record.answer)
        try:
            scores = judge_scores(completion.text, CRITERIA)
        except MalformedResponse as exc:
            return self.malformed(record, "judge", exc)
        low = [f"{name} {value:g} < {self.config.keep_threshold:g}" for name, value in scores.items()
               if value < self.config.keep_threshold]
        if low:
            return ItemResult(rejected=[self.rejected(record, "judge", "below the keep threshold: " + ", ".join(low),
                                                      judge=scores)])
        row = record.model_dump(mode="json", exclude_none=True) | {
            "judge": scores, "generation": self.provenance(record, record.lang, ("judge",)),
        }
        return ItemResult(outputs={self.name: [row]})
