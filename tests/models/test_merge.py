"""Merging: the merged model's logits equal base + adapter, and its directory is ready for inference."""

from __future__ import annotations

import torch

from medadapt.models.merge import merge_to_dir


def test_merged_logits_equal_base_plus_adapter(tmp_path, tiny_model_dir, tiny_tokenizer):
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, GenerationConfig

    torch.manual_seed(0)
    # init_lora_weights=False: random B as well as A, so the adapter really changes the output
    adapter = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                             LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False))
    adapter.save_pretrained(tmp_path / "adapter")
    merged_dir = merge_to_dir(str(tiny_model_dir), tmp_path / "adapter", tiny_tokenizer, tmp_path / "merged",
                              torch.float32)

    ids = torch.tensor([tiny_tokenizer("The patient has a fever. بیمار تب دارد.")["input_ids"]])
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        base_logits = base(ids).logits
        unmerged = PeftModel.from_pretrained(base, str(tmp_path / "adapter"))(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(merged_dir)(ids).logits
    assert (unmerged - base_logits).abs().max() > 1e-2  # the adapter matters …
    assert torch.allclose(merged, unmerged, atol=1e-4)  # … and merging keeps it exactly
    assert (merged_dir / "model.safetensors").is_file()
    assert "im_start" in (merged_dir / "tokenizer_config.json").read_text() + (merged_dir / "chat_template.jinja").read_text()
    assert tiny_tokenizer.eos_token_id in GenerationConfig.from_pretrained(merged_dir).eos_token_id
