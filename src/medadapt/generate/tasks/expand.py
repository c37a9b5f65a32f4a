"""Answer expansion (MMed-IFT): a short answer becomes an explained one in the same language, kept as a
``qa`` record (``answer`` the explained text, ``short_answer`` the original) the data stage reads as is."""

from __future__ import annotations

from medadapt.records.kinds import QARecord
from medadapt.generate.parsing import free_text
from medadapt.generate.tasks.base import ItemResult, TaskRunner
from medadapt.llm.errors import MalformedResponse


class ExpandRunner(TaskRunner):
    record_kind = "qa"

    async def process(self, record: QARecord) -> ItemResult:
        completion = await self.ask(record.lang, "expand", question=record.question, answer=record.answer)
        try:
            expanded = free_text(completion.text, completion.finish_reason)
        except MalformedResponse as exc:
            return self.malformed(record, "expand", exc)
        row = record.model_dump(mode="json", exclude_none=True) | {
            "id": f"{record.id}-expanded", "answer": expanded, "short_answer": record.answer,
            "generation": self.provenance(record, record.lang, ("expand",), finish_reason=completion.finish_reason),
        }
        return ItemResult(outputs={self.name: [row]})
