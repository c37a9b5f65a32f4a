"""Records → training chats: the system prompt follows the record's language."""

from __future__ import annotations

from medadapt.format.formatting import qa_to_chat
from medadapt.records.kinds import QARecord


def test_qa_to_chat_uses_system_prompt_of_the_record_language():
    record = QARecord(id="1", source="s", lang="fa", question="تب دارم", answer="استراحت کنید")
    chat = qa_to_chat(record, {"fa": "دستیار پزشکی", "en": "assistant"})
    assert [(m.role, m.content) for m in chat.messages] == [
        ("system", "دستیار پزشکی"), ("user", "تب دارم"), ("assistant", "استراحت کنید")]
    assert (chat.id, chat.source, chat.lang) == ("1", "s", "fa")
    assert [m.role for m in qa_to_chat(record, {}).messages] == ["user", "assistant"]
