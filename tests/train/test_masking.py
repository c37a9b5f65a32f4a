"""The assistant-only loss mask: labels are -100 exactly outside assistant turns."""

from __future__ import annotations

import pytest

from medadapt.errors import DataError
from medadapt.train.masking import assistant_spans, tokenize_chat
from medadapt.train.sft import build_sft_dataset

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


def test_truncation_and_rows_with_nothing_to_learn(tiny_tokenizer):
    rows = [{"id": "a", "messages": CONVERSATION}, {"id": "b", "messages": CONVERSATION}]
    full = len(tokenize_chat(tiny_tokenizer, CONVERSATION)["input_ids"])
    examples, rejected = build_sft_dataset(tiny_tokenizer, rows, max_length=full - 3)
    assert len(examples) == 2 and all(len(e["input_ids"]) == full - 3 for e in examples)
    examples, rejected = build_sft_dataset(tiny_tokenizer, rows, max_length=10)
    assert examples == [] and [r["id"] for r in rejected] == ["a", "b"]
    assert "no assistant token within max_length=10" in rejected[0]["reason"]


def test_trl_builds_labels_from_our_mask(tiny_model_dir, tiny_tokenizer, tmp_path):
    """What TRL's SFTTrainer trains on: labels equal input_ids on assistant tokens and -100 elsewhere."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTTrainer

    from medadapt.train.config import SFTStageConfig
    from medadapt.train.setup import peft_config
    from medadapt.train.sft import sft_arguments

    examples, _ = build_sft_dataset(tiny_tokenizer, [{"id": "a", "messages": CONVERSATION}], max_length=512)
    cfg = SFTStageConfig(max_steps=1, max_length=512)
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        args=sft_arguments(cfg, tmp_path / "out", seed=0),
        train_dataset=Dataset.from_list(examples),
        processing_class=tiny_tokenizer,
        peft_config=peft_config(cfg),
    )
    row = trainer.train_dataset[0]
    expected = [t if m else -100 for t, m in zip(examples[0]["input_ids"], examples[0]["assistant_masks"])]
    assert row["labels"] == expected
    batch = trainer.data_collator([row])
    assert batch["labels"][0].tolist() == expected


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
