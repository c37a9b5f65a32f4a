"""Training and inference render the same token ids; truncation policies at cutoff_len, with counts."""

from __future__ import annotations

import pytest

from medadapt.format.rendering import apply_cutoff, chat_tokens, inference_prompt_ids, render_parity_problems
from medadapt.models.chat import tokenize_chat
from medadapt.records.kinds import ChatRecord

LONG = "The patient has a fever and a headache. Drink water and rest. " * 6


def _chat(id_: str, *turns: str, system: str | None = "You are a doctor.") -> ChatRecord:
    messages = [{"role": "system", "content": system}] if system else []
    roles = ["user", "assistant"]
    messages += [{"role": roles[i % 2], "content": text} for i, text in enumerate(turns)]
    return ChatRecord(id=id_, source="s", lang="en", messages=messages)


def test_training_and_inference_token_ids_agree_for_chatml(tiny_tokenizer):
    chat = _chat("c", "I have a fever.", "Drink water and rest.", "And a headache?", "See a doctor.")
    assert render_parity_problems(tiny_tokenizer, chat) == []
    messages = [m.model_dump() for m in chat.messages]
    trained = tokenize_chat(tiny_tokenizer, messages)["input_ids"]
    prompt = inference_prompt_ids(tiny_tokenizer, messages[:2])
    assert trained[: len(prompt)] == prompt and len(trained) > len(prompt)


def test_a_template_whose_prompt_ends_in_a_space_is_caught(tiny_tokenizer):
    tokenizer = tiny_tokenizer.__class__.from_pretrained(tiny_tokenizer.name_or_path)
    # the generation prompt ends in a space that training merges into the answer's first word
    tokenizer.chat_template = ("{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\n' }}{% endfor %}"
                               "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}")
    problems = render_parity_problems(tokenizer, _chat("c", "Fever?", "Drink water."))
    assert len(problems) == 1 and problems[0].startswith("c: turn 2: training and inference token ids differ")


def test_drop_policy_counts_and_quarantines(tiny_tokenizer):
    short, long = _chat("short", "Fever?", "Rest."), _chat("long", "Fever?", LONG)
    cutoff = chat_tokens(tiny_tokenizer, short) + 5
    kept, rejected, counts = apply_cutoff(tiny_tokenizer, [short, long], cutoff, "drop")
    assert [c.id for c in kept] == ["short"] and counts == {"fit": 1, "dropped": 1}
    assert rejected[0]["id"] == "long" and f"> cutoff_len {cutoff} (policy drop)" in rejected[0]["reason"]


def test_truncate_last_cuts_the_answer_to_fit(tiny_tokenizer):
    long = _chat("long", "Fever?", LONG)
    cutoff = chat_tokens(tiny_tokenizer, long) // 2
    kept, rejected, counts = apply_cutoff(tiny_tokenizer, [long], cutoff, "truncate_last")
    assert counts == {"truncated": 1} and rejected == []
    answer = kept[0].messages[-1].content
    assert LONG.startswith(answer) and len(answer) < len(LONG)
    assert cutoff - 3 <= chat_tokens(tiny_tokenizer, kept[0]) <= cutoff  # as much as fits, not less


def test_split_turns_a_long_conversation_into_chats_that_fit(tiny_tokenizer):
    exchange = ("I have a fever and a headache.", "Drink water and rest. See a doctor if it gets worse.")
    chat = _chat("multi", *exchange * 4)
    one = chat_tokens(tiny_tokenizer, _chat("x", *exchange))
    kept, _, counts = apply_cutoff(tiny_tokenizer, [chat], 2 * one, "split")
    assert counts["split"] == 1 and counts["split_into"] == len(kept) >= 2
    assert [c.id for c in kept][:2] == ["multi/1", "multi/2"]
    assert all(c.messages[0].role == "system" and chat_tokens(tiny_tokenizer, c) <= 2 * one for c in kept)
    assert sum(m.role == "assistant" for c in kept for m in c.messages) == 4


@pytest.mark.parametrize("policy", ["truncate_last", "split"])
def test_a_chat_whose_question_alone_is_too_long_is_dropped(tiny_tokenizer, policy):
    chat = _chat("q", LONG, "Rest.")
    kept, rejected, counts = apply_cutoff(tiny_tokenizer, [chat], 20, policy)
    assert kept == [] and counts["dropped"] == 1 and rejected[0]["step"] == "cutoff"
