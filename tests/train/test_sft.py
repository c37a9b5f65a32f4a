"""The SFT dataset built from assistant masks: truncated rows keep their mask, rows with nothing left to learn
are rejected, and TRL's trainer builds its labels from our mask."""

from __future__ import annotations

from medadapt.models.chat import tokenize_chat
from medadapt.train.sft import build_sft_dataset

CONVERSATION = [
    {"role": "system", "content": "You are a careful doctor."},
    {"role": "user", "content": "I have a fever."},
    {"role": "assistant", "content": "Drink water and rest."},
    {"role": "user", "content": "سردرد هم دارم"},
    {"role": "assistant", "content": "به پزشک مراجعه کنید."},
]


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
