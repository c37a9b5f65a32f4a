"""Chat tokenisation: the assistant-token mask (labels are -100 exactly outside assistant turns) and the one
tokenizer loader, with a recipe's chat template or the model's own."""

from __future__ import annotations

import pytest

from medadapt.errors import DataError
from medadapt.models.chat import assistant_spans, load_chat_model, load_chat_tokenizer, tokenize_chat

CONVERSATION = [
    {"role": "system", "content": "You are a careful doctor."},
    {"role": "user", "content": "I have a fever."},
    {"role": "assistant", "content": "Drink water and rest."},
    {"role": "user", "content": "سردرد هم دارم"},
    {"role": "assistant", "content": "به پزشک مراجعه کنید."},
]


def masked_text(tokenizer, ids, mask, value=1):
    return tokenizer.decode([i for i, m in zip(ids, mask) if m == value])


def test_mask_covers_exactly_the_assistant_turns(tiny_tokenizer):
    tokens = tokenize_chat(tiny_tokenizer, CONVERSATION)
    ids, mask = tokens["input_ids"], tokens["assistant_masks"]
    assert ids == tiny_tokenizer(tiny_tokenizer.apply_chat_template(CONVERSATION, tokenize=False),
                                 add_special_tokens=False)["input_ids"]
    learned = masked_text(tiny_tokenizer, ids, mask)
    assert learned == "Drink water and rest.<|im_end|>\nبه پزشک مراجعه کنید.<|im_end|>\n"
    context = masked_text(tiny_tokenizer, ids, mask, value=0)
    assert "Drink" not in context and "fever" in context and "سردرد" in context
    assert context.count("<|im_start|>assistant\n") == 2  # the generation prompt is context, not target


def test_default_system_prompt_of_template_is_not_learned(tiny_tokenizer):
    chat = CONVERSATION[1:3]
    text, spans = assistant_spans(tiny_tokenizer, chat)
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.")
    assert [text[a:b] for a, b in spans] == ["Drink water and rest.<|im_end|>\n"]


def test_template_that_rewrites_history_is_refused(tiny_tokenizer):
    """A template that renders earlier turns differently once later turns exist cannot be masked safely."""
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    tok.chat_template = (
        "{% for m in messages %}{{ m['role'] + (':' if loop.last else '=') + m['content'] + '\n' }}{% endfor %}"
    )
    with pytest.raises(DataError, match="growing prefixes"):
        tokenize_chat(tok, CONVERSATION)


LLAMA3_STYLE = (
    "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' "
    "+ m['content'] + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def test_multi_turn_mask_with_a_header_style_template(tiny_tokenizer):
    """A second template family (Llama-3 headers, no newline after end-of-turn): same guarantee."""
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    tok.add_special_tokens({"additional_special_tokens": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]})
    tok.chat_template = LLAMA3_STYLE
    tokens = tokenize_chat(tok, CONVERSATION)
    assert masked_text(tok, tokens["input_ids"], tokens["assistant_masks"]) == (
        "Drink water and rest.<|eot_id|>به پزشک مراجعه کنید.<|eot_id|>")
    context = masked_text(tok, tokens["input_ids"], tokens["assistant_masks"], value=0)
    assert context.count("<|start_header_id|>assistant<|end_header_id|>\n\n") == 2 and "سردرد" in context


def test_load_chat_tokenizer_installs_a_named_template_or_keeps_the_model_s_own(tiny_model_dir, tmp_path):
    own = load_chat_tokenizer(str(tiny_model_dir), None)
    assert own.apply_chat_template(CONVERSATION[1:3], tokenize=False).startswith("<|im_start|>system\n")
    assert own.pad_token is not None
    (tmp_path / "plain.yaml").write_text("template: '{% for m in messages %}{{ m.content }}|{% endfor %}'\n"
                                         "eos_token: <|im_end|>\n")
    named = load_chat_tokenizer(str(tiny_model_dir), "plain.yaml", tmp_path)
    assert named.apply_chat_template(CONVERSATION[1:3], tokenize=False) == "I have a fever.|Drink water and rest.|"
    assert named.eos_token == "<|im_end|>"


def test_pad_token_rules_of_training_and_inference(tiny_model_dir, tmp_path):
    """Without a pad token, training pads with the template's end-of-turn token (set after the template),
    inference with the model's own eos (set by load_for_inference before the template)."""
    import shutil

    from transformers import AutoTokenizer

    from medadapt.models.templates import ChatTemplate

    model_dir = tmp_path / "no-pad"
    shutil.copytree(tiny_model_dir, model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.pad_token = None
    tokenizer.save_pretrained(model_dir)
    (tmp_path / "turns.yaml").write_text("template: '{% for m in messages %}{{ m.content }}{% endfor %}'\n"
                                         "eos_token: <|im_start|>\n")
    training = load_chat_tokenizer(str(model_dir), "turns.yaml", tmp_path)
    assert training.eos_token == training.pad_token == "<|im_start|>"
    _, inference = load_chat_model(str(model_dir), chat_template=ChatTemplate("turns", "{{ '' }}", "<|im_start|>"))
    assert inference.eos_token == "<|im_start|>" and inference.pad_token == "<|im_end|>"
