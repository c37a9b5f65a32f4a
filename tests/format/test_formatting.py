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


def test_a_multi_answer_question_becomes_a_chat_with_every_correct_option():
    """CMB's 多项选择题: asked as a multi-answer question, answered with all its options (not the first alone)."""
    from medadapt.format.formatting import mcqa_to_chat
    from medadapt.records.kinds import MCQARecord

    choices = ["发热", "咳嗽", "皮疹", "腹泻"]
    multi = MCQARecord(id="m", source="cmb", lang="zh", question="流感的常见症状有哪些？", choices=choices,
                       answer=0, answers=[0, 1], subject="内科")
    user, answer = (m.content for m in mcqa_to_chat(multi, {}).messages)
    assert user.startswith("请回答以下关于内科的多项选择题，给出所有正确选项的字母。")
    assert answer == "答案：\nA. 发热\nB. 咳嗽"
    single = mcqa_to_chat(multi.model_copy(update={"answers": None}), {}).messages
    assert single[0].content.startswith("请回答以下关于内科的单项选择题") and single[1].content == "答案：A. 发热"
