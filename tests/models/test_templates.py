from __future__ import annotations

import copy

import pytest

from medadapt.errors import ModelError
from medadapt.models.chat import tokenize_chat
from medadapt.models.templates import load_chat_template, prepare_chat_tokenizer, shipped_templates

CHAT = [
    {"role": "system", "content": "Be careful."},
    {"role": "user", "content": "تب دارم"},
    {"role": "assistant", "content": "استراحت کنید."},
    {"role": "user", "content": "Still hot?"},
    {"role": "assistant", "content": "See a doctor."},
]


def test_shipped_templates_are_data():
    assert {"chatml", "gemma"} <= set(shipped_templates())
    assert load_chat_template("gemma").eos_token == "<end_of_turn>"


def test_gemma_template_folds_system_and_masks_model_turns(tiny_tokenizer):
    tok = copy.deepcopy(tiny_tokenizer)
    tok.add_special_tokens({"additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"]})
    prepare_chat_tokenizer(tok, load_chat_template("gemma"), "tiny")
    assert tok.eos_token == "<end_of_turn>"
    text = tok.apply_chat_template(CHAT, tokenize=False)
    assert text.startswith(tok.bos_token + "<start_of_turn>user\nBe careful.\n\nتب دارم<end_of_turn>\n")
    tokens = tokenize_chat(tok, CHAT)
    learned = tok.decode([i for i, m in zip(tokens["input_ids"], tokens["assistant_masks"]) if m])
    assert learned == "استراحت کنید.<end_of_turn>\nSee a doctor.<end_of_turn>\n"


def test_template_token_missing_from_vocabulary_is_a_clear_error(tiny_tokenizer):
    with pytest.raises(ModelError, match="no token '<end_of_turn>'"):
        prepare_chat_tokenizer(copy.deepcopy(tiny_tokenizer), load_chat_template("gemma"), "tiny")


def test_model_without_template_needs_one_named(tiny_tokenizer):
    tok = copy.deepcopy(tiny_tokenizer)
    tok.chat_template = None
    with pytest.raises(ModelError, match="no chat template; name one in the recipe"):
        prepare_chat_tokenizer(tok, None, "tiny")
    prepare_chat_tokenizer(tok, load_chat_template("chatml"), "tiny")
    assert tok.apply_chat_template(CHAT[1:3], tokenize=False).startswith("<|im_start|>user\n")


def test_user_template_file_and_unknown_name(tmp_path):
    (tmp_path / "mine.yaml").write_text("template: '{{ messages[0].content }}'\n")
    assert load_chat_template("mine.yaml", tmp_path).template == "{{ messages[0].content }}"
    with pytest.raises(ModelError, match="unknown chat template"):
        load_chat_template("nope")
    (tmp_path / "bad.yaml").write_text("- a list\n")
    with pytest.raises(ModelError, match="expected a mapping with a `template` string"):
        load_chat_template("bad.yaml", tmp_path)


def test_vicuna_template_has_human_and_ai_roles_and_learns_the_ai_turns(tiny_tokenizer):
    tok = copy.deepcopy(tiny_tokenizer)
    prepare_chat_tokenizer(tok, load_chat_template("vicuna"), "tiny")
    text = tok.apply_chat_template(CHAT, tokenize=False)
    assert text == (f"Be careful. USER: تب دارم ASSISTANT: استراحت کنید.{tok.eos_token} USER: Still hot? "
                    f"ASSISTANT: See a doctor.{tok.eos_token}")
    assert tok.apply_chat_template(CHAT[1:2], tokenize=False, add_generation_prompt=True).startswith(
        "A chat between a curious user and an artificial intelligence assistant.")
    tokens = tokenize_chat(tok, CHAT)
    learned = tok.decode([i for i, m in zip(tokens["input_ids"], tokens["assistant_masks"]) if m])
    assert learned.split() == f"استراحت کنید.{tok.eos_token} See a doctor.{tok.eos_token}".split()
