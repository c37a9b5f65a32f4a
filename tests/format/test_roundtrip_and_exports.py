"""Exports read back through the shipped mappings give the same records; LLaMA-Factory and lm-eval files."""

from __future__ import annotations

import json

import pytest
import yaml

from medadapt.format.convert import convert_file
from medadapt.format.exports import chat_to_alpaca
from medadapt.records.importers import import_file
from medadapt.records.jsonl import write_jsonl
from medadapt.records.kinds import ChatRecord, MCQARecord
from medadapt.records.store import write_records

CHATS = [
    ChatRecord(id="c1", source="forum", lang="fa", messages=[
        {"role": "system", "content": "دستیار پزشکی"}, {"role": "user", "content": "تب دارم"},
        {"role": "assistant", "content": "استراحت کنید"}, {"role": "user", "content": "و بعد؟"},
        {"role": "assistant", "content": "اگر ادامه داشت به پزشک مراجعه کنید."}]),
    ChatRecord(id="c2", source="kqa", lang="en", messages=[
        {"role": "user", "content": "Is aspirin safe for children?"}, {"role": "assistant", "content": "No."}]),
]


@pytest.mark.parametrize(("to", "suffix"), [("alpaca", ".json"), ("sharegpt", ".json"), ("openai", ".jsonl"),
                                            ("chat", ".parquet"), ("hf", "")])
def test_chat_exports_round_trip_without_change(tmp_path, to, suffix):
    canonical = tmp_path / "chats.jsonl"
    write_jsonl(canonical, CHATS)
    out = tmp_path / f"export{suffix}"
    result = convert_file(canonical, out, "chat", to)
    assert result.written == 2 and not result.rejected
    back = import_file(out, "chat" if to in ("chat", "hf") else to)
    assert back.rejected == [] and back.records == CHATS


def test_mcqa_parquet_round_trip_keeps_optional_fields(tmp_path):
    records = [MCQARecord(id="1", source="s", lang="fa", question="کدام؟", choices=["a", "b"], answer=1,
                          explanation="چون", meta={"Source": "exam 1401"}),
               MCQARecord(id="2", source="s", lang="en", question="Which?", choices=["a", "b", "c"], answer=0)]
    path = tmp_path / "m.parquet"
    write_records(path, records)
    assert import_file(path, "mcqa").records == records


def test_llamafactory_dataset_info_describes_each_file(tmp_path):
    canonical = tmp_path / "chats.jsonl"
    write_jsonl(canonical, CHATS)
    convert_file(canonical, tmp_path / "lf" / "med_alpaca.json", "chat", "alpaca")
    convert_file(canonical, tmp_path / "lf" / "med_sharegpt.json", "chat", "sharegpt")
    info = json.loads((tmp_path / "lf" / "dataset_info.json").read_text())
    assert info["med_alpaca"]["file_name"] == "med_alpaca.json" and info["med_alpaca"]["columns"]["history"] == "history"
    assert info["med_sharegpt"]["formatting"] == "sharegpt" and info["med_sharegpt"]["tags"]["assistant_tag"] == "gpt"
    rows = json.loads((tmp_path / "lf" / "med_alpaca.json").read_text())
    assert rows[0]["history"] == [["تب دارم", "استراحت کنید"]] and rows[0]["system"] == "دستیار پزشکی"


def test_a_chat_alpaca_cannot_hold_is_quarantined(tmp_path):
    odd = ChatRecord(id="odd", source="s", lang="en", messages=[
        {"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}])
    with pytest.raises(ValueError, match="do not alternate"):
        chat_to_alpaca(odd)
    canonical = tmp_path / "c.jsonl"
    write_jsonl(canonical, [*CHATS, odd])
    result = convert_file(canonical, tmp_path / "out.json", "chat", "alpaca")
    assert result.written == 2 and result.rejected[0]["id"] == "odd"
    assert (tmp_path / "out.rejected.jsonl").is_file()


def test_qa_and_mcqa_become_chats_in_their_language(tmp_path):
    mcqa = tmp_path / "m.jsonl"
    write_jsonl(mcqa, [MCQARecord(id="1", source="s", lang="fa", question="کدام عصب؟", choices=["فرنیک", "واگ"],
                                  answer=0, subject="anatomy", explanation="عصب فرنیک دیافراگم را عصب‌دهی می‌کند."),
                       MCQARecord(id="2", source="s", lang="xx", question="?", choices=["a", "b"], answer=0)])
    result = convert_file(mcqa, tmp_path / "chat.jsonl", "mcqa", "chat")
    chat = import_file(tmp_path / "chat.jsonl", "chat").records[0]
    user, assistant = chat.messages[0].content, chat.messages[1].content
    assert "دربارهٔ anatomy" in user and "A. فرنیک\nB. واگ" in user
    assert assistant == "پاسخ: A. فرنیک\n\nتوضیح: عصب فرنیک دیافراگم را عصب‌دهی می‌کند."
    assert "no instruction prompts for language 'xx'" in result.rejected[0]["reason"]


def test_articles_become_paragraph_aligned_text_chunks(tmp_path):
    paragraphs = [f"Paragraph {i}. " + "word " * 60 for i in range(6)]
    articles = tmp_path / "a.jsonl"
    articles.write_text(json.dumps({"id": "a1", "source": "mag", "url": "", "lang": "en", "title": "Fever",
                                    "text": "\n\n".join(paragraphs)}) + "\n")
    convert_file(articles, tmp_path / "t.jsonl", "article", "text", chunk_chars=700)
    chunks = import_file(tmp_path / "t.jsonl", "text").records
    assert [c.id for c in chunks] == ["a1#1", "a1#2", "a1#3"]
    assert all(len(c.text) <= 700 for c in chunks) and chunks[0].text.startswith("Fever\n\nParagraph 0.")
    assert "".join(c.text for c in chunks).count("Paragraph") == 6


def test_lm_eval_task_yaml_points_at_its_data(tmp_path):
    mcqa = tmp_path / "m.jsonl"
    write_jsonl(mcqa, [MCQARecord(id=str(i), source="s", lang="fa", question=f"q{i}", choices=["a", "b", "c"],
                                  answer=i % 3, subject="medical_genetics") for i in range(3)])
    convert_file(mcqa, tmp_path / "lm" / "genetics_fa.yaml", "mcqa", "lm-eval")
    task = yaml.safe_load((tmp_path / "lm" / "genetics_fa.yaml").read_text())
    assert task["task"] == "genetics_fa" and task["output_type"] == "multiple_choice"
    assert task["dataset_kwargs"]["data_files"]["test"] == str((tmp_path / "lm" / "genetics_fa.jsonl").resolve())
    assert "medical genetics" in task["description"] and task["doc_to_text"].endswith("پاسخ:")
    assert len(import_file(tmp_path / "lm" / "genetics_fa.jsonl", "mcqa").records) == 3
