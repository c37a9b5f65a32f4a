"""QA generation from corpus passages (MMed-IFT): condense the passage, then one multiple-choice and one
short-answer question with rationales in the ###MCQ/###SAQ format. Writes ``<name>.mcqa.jsonl`` (mcqa
records, ``explanation`` = rationale) and ``<name>.qa.jsonl`` (qa records with ``rationale``)."""

from __future__ import annotations

from medadapt.records.kinds import ArticleRecord
from medadapt.generate.parsing import free_text, generated_questions
from medadapt.generate.tasks.base import ItemResult, TaskRunner
from medadapt.llm.errors import MalformedResponse


class QAGenerateRunner(TaskRunner):
    @property
    def record_kind(self) -> str:  # type: ignore[override]
        return self.config.format

    def output_stems(self) -> list[str]:
        return [f"{self.name}.mcqa", f"{self.name}.qa"]

    async def process(self, record: ArticleRecord) -> ItemResult:
        completion = await self.ask(record.lang, "condense", title=getattr(record, "title", ""), text=record.text)
        try:
            passage = free_text(completion.text, completion.finish_reason)
        except MalformedResponse as exc:
            return self.malformed(record, "condense", exc)
        completion = await self.ask(record.lang, "qa_generate", passage=passage)
        try:
            made = generated_questions(completion.text)
        except MalformedResponse as exc:
            return self.malformed(record, "qa_generate", exc, passage=passage)
        common = {"source": record.source, "lang": record.lang, "url": getattr(record, "url", ""), "passage": passage,
                  "generation": self.provenance(record, record.lang, ("condense", "qa_generate"))}
        mcq = {"id": f"{record.id}-mcq", "question": made.mcq_question, "choices": made.options,
               "answer": made.mcq_answer, "explanation": made.mcq_rationale, **common}
        saq = {"id": f"{record.id}-saq", "question": made.saq_question, "answer": made.saq_answer,
               "rationale": made.saq_rationale, **common}
        return ItemResult(outputs={f"{self.name}.mcqa": [mcq], f"{self.name}.qa": [saq]})
