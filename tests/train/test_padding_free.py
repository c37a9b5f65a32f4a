"""Padding-free batches (TRL padding_free, position_ids per example, attention per chat) give the padded batch's
loss."""

from __future__ import annotations

import torch

from helpers import CHATS
from medadapt.train.config import SFTStageConfig
from medadapt.train.packed_attention import PACKED_SDPA, plain_causal_attention, use_packed_attention
from medadapt.train.sft import build_sft_dataset


def collated_loss(tmp_path, model, tokenizer, examples, padding_free):
    from datasets import Dataset
    from trl import SFTTrainer

    from medadapt.train.sft import sft_arguments

    cfg = SFTStageConfig(max_steps=1, max_length=256, padding_free=padding_free)
    trainer = SFTTrainer(model=model, args=sft_arguments(cfg, tmp_path / str(padding_free), seed=0),
                         train_dataset=Dataset.from_list(examples), processing_class=tokenizer)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(examples))])
    with torch.no_grad():
        return model(**batch).loss.item(), batch["input_ids"].shape


def test_padding_free_loss_equals_padded_loss(tmp_path, tiny_model_dir, tiny_tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    examples, _ = build_sft_dataset(tiny_tokenizer, [{"id": str(i), "messages": m} for i, m in enumerate(CHATS[:2])],
                                    max_length=256)
    assert len(examples[0]["input_ids"]) != len(examples[1]["input_ids"])
    padded, padded_shape = collated_loss(tmp_path, model, tiny_tokenizer, examples, padding_free=False)
    packed_sdpa, _ = collated_loss(tmp_path, model, tiny_tokenizer, examples, padding_free=True)
    use_packed_attention(model)
    assert model.config._attn_implementation == PACKED_SDPA
    packed, packed_shape = collated_loss(tmp_path, model, tiny_tokenizer, examples, padding_free=True)
    assert packed_shape == (1, sum(len(e["input_ids"]) for e in examples))  # one row, no padding
    assert abs(packed - padded) < 1e-5 and abs(packed_sdpa - padded) < 1e-5  # no attention across the examples


def test_packed_attention_only_for_plain_causal_models():
    from transformers import AutoConfig

    assert plain_causal_attention(AutoConfig.for_model("llama"))
    assert plain_causal_attention(AutoConfig.for_model("qwen2"))  # its sliding window is off by default
    assert not plain_causal_attention(AutoConfig.for_model("mistral", sliding_window=4096))
    assert not plain_causal_attention(AutoConfig.for_model("gemma3_text"))  # local layers: a 512-token window
