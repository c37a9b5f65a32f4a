"""Records → training data: Q&A, multiple-choice and NER records → chat records; articles → text chunks.

Instruction wording is data (``prompts.yaml``, one entry per language) and follows the record's language.
Rendering with the model's own chat template happens where the tokenizer is known (training, chat), from
the same messages, so training and inference see conversations the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from medadapt.records.kinds import ArticleRecord, ChatRecord, MCQARecord, Message, NERRecord, QARecord, Record, TextRecord

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@lru_cache(maxsize=1)
def instruction_prompts() -> dict[str, dict[str, str]]:
    return yaml.safe_load(Path(__file__).with_name("prompts.yaml").read_text(encoding="utf-8"))


def _prompts(lang: str) -> dict[str, str]:
    prompts = instruction_prompts()
    if lang not in prompts:
        raise ValueError(f"no instruction prompts for language {lang!r} (have {', '.join(prompts)}; add one to "
                         "medadapt/format/prompts.yaml)")
    return prompts[lang]


def _chat(record: Record, user: str, assistant: str, system_prompts: dict[str, str]) -> ChatRecord:
    messages = []
    system = system_prompts.get(record.lang)
    if system:
        messages.append(Message(role="system", content=system))
    messages.append(Message(role="user", content=user))
    messages.append(Message(role="assistant", content=assistant))
    return ChatRecord(id=record.id, source=record.source, lang=record.lang, messages=messages)


def qa_to_chat(record: QARecord, system_prompts: dict[str, str]) -> ChatRecord:
    return _chat(record, record.question, record.answer, system_prompts)


def mcqa_to_chat(record: MCQARecord, system_prompts: dict[str, str]) -> ChatRecord:
    """Question + lettered options → the answer letter and option text (every correct one, a line each, for a
    multi-answer question, asked as such), then the explanation when present."""
    p = _prompts(record.lang)
    options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(record.choices))
    instruction = p["mcqa_multi_instruction" if record.answers else "mcqa_instruction"]
    user = f"{instruction.format(subject=record.subject.replace('_', ' '))}\n\n{record.question}\n\n{options}"
    if record.answers:
        answer = p["mcqa_answers"].format(options="\n".join(f"{LETTERS[i]}. {record.choices[i]}" for i in record.answers))
    else:
        answer = p["mcqa_answer"].format(letter=LETTERS[record.answer], choice=record.choices[record.answer])
    if record.explanation and record.explanation.strip():
        answer += "\n\n" + p["mcqa_explanation"].format(explanation=record.explanation.strip())
    return _chat(record, user, answer, system_prompts)


def ner_entities(record: NERRecord) -> list[tuple[str, str]]:
    """(entity text, type) spans from BIO tags; an ``I-`` tag without its ``B-`` starts a new entity."""
    entities: list[tuple[list[str], str]] = []
    for token, tag in zip(record.tokens, record.tags):
        if tag == "O":
            continue
        prefix, kind = tag[:2], tag[2:]
        if prefix == "I-" and entities and entities[-1][1] == kind and entities[-1][0]:
            entities[-1][0].append(token)
        else:
            entities.append(([token], kind))
    return [(" ".join(tokens), kind) for tokens, kind in entities]


def ner_to_chat(record: NERRecord, system_prompts: dict[str, str]) -> ChatRecord:
    p = _prompts(record.lang)
    entities = ner_entities(record)
    answer = "\n".join(f"{text} | {kind}" for text, kind in entities) or p["ner_none"]
    return _chat(record, f"{p['ner_instruction']}\n\n{' '.join(record.tokens)}", answer, system_prompts)


def to_chat(record: Record, system_prompts: dict[str, str]) -> ChatRecord:
    """Any chat-able record as a chat; ``ValueError`` (with the reason) for a record that cannot be one."""
    if isinstance(record, ChatRecord):
        return record
    if isinstance(record, QARecord):
        return qa_to_chat(record, system_prompts)
    if isinstance(record, MCQARecord):
        return mcqa_to_chat(record, system_prompts)
    if isinstance(record, NERRecord):
        return ner_to_chat(record, system_prompts)
    raise ValueError(f"a {type(record).__name__} cannot become a chat (articles and text go to stage-1 text)")


def _pieces(text: str, limit: int) -> list[str]:
    """Split one over-long paragraph at sentence ends (or spaces, or hard) into pieces of ≤ ``limit``."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max((m.end() for m in re.finditer(r"[.!?؟。]\s", window)), default=0) or window.rfind(" ") + 1 or limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*pieces, rest] if rest else pieces


def article_to_texts(record: ArticleRecord | TextRecord, chunk_chars: int) -> list[TextRecord]:
    """Paragraph-aligned chunks of at most ``chunk_chars`` characters; the title opens the first chunk."""
    body = record.text if isinstance(record, TextRecord) or not record.title else f"{record.title}\n\n{record.text}"
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    chunks: list[str] = []
    for paragraph in paragraphs:
        for piece in _pieces(paragraph, chunk_chars):
            if chunks and len(chunks[-1]) + 2 + len(piece) <= chunk_chars:
                chunks[-1] += "\n\n" + piece
            else:
                chunks.append(piece)
    if len(chunks) == 1:
        return [TextRecord(id=record.id, source=record.source, lang=record.lang, text=chunks[0])]
    return [TextRecord(id=f"{record.id}#{i}", source=record.source, lang=record.lang, text=chunk)
            for i, chunk in enumerate(chunks, start=1)]
