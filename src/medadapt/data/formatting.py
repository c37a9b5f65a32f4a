"""Q&A records → chat records (system prompt per language, user question, assistant answer).

Rendering with the model's own chat template happens where the tokenizer is known (training, chat), from
the same messages, so training and inference see conversations the same way.
"""

from __future__ import annotations

from medadapt.data.records import ChatRecord, Message, QARecord


def qa_to_chat(record: QARecord, system_prompts: dict[str, str]) -> ChatRecord:
    messages = []
    system = system_prompts.get(record.lang)
    if system:
        messages.append(Message(role="system", content=system))
    messages.append(Message(role="user", content=record.question))
    messages.append(Message(role="assistant", content=record.answer))
    return ChatRecord(id=record.id, source=record.source, lang=record.lang, messages=messages)
