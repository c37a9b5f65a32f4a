"""MCQA-grounded conversations (BiMediX): a patient/doctor dialogue built on an exam question whose last
doctor turn gives the exam's answer. Written as ``chat`` records (user = patient, assistant = doctor); a
dialogue whose last turn does not contain the correct option's text is quarantined, not kept."""

from __future__ import annotations

from medadapt.records.kinds import MCQARecord
from medadapt.generate.parsing import LETTERS, conversation_turns
from medadapt.generate.tasks.base import ItemResult, TaskRunner
from medadapt.llm.errors import MalformedResponse

ROLES = {"Patient": "user", "Doctor": "assistant"}


class ConversationRunner(TaskRunner):
    record_kind = "mcqa"

    async def process(self, record: MCQARecord) -> ItemResult:
        answer = record.choices[record.answer]
        options = "; ".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(record.choices))
        completion = await self.ask(record.lang, "conversation", question=record.question, options=options,
                                    answer=answer, turns=self.config.min_turns)
        try:
            turns = conversation_turns(completion.text, self.config.min_turns)
            if answer.casefold() not in turns[-1][1].casefold():
                raise MalformedResponse(f"the doctor's last turn does not give the answer {answer!r}", completion.text)
        except MalformedResponse as exc:
            return self.malformed(record, "conversation", exc)
        row = {"id": f"{record.id}-conversation", "source": record.source, "lang": record.lang,
               "messages": [{"role": ROLES[speaker], "content": text} for speaker, text in turns],
               "meta": {"mcqa_id": record.id, "subject": record.subject},
               "generation": self.provenance(record, record.lang, ("conversation",))}
        return ItemResult(outputs={self.name: [row]})
