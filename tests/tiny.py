"""Tiny, randomly initialised models built in code (seconds), with a real byte-level BPE tokenizer and a
ChatML chat template like SmolLM2's, so every real code path (from_pretrained on a directory, chat
templates, PEFT, TRL) runs in tests without any download."""

from __future__ import annotations

from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "The patient has a fever and a headache. Drink water and rest. See a doctor if it gets worse.",
    "Which nerve supplies the diaphragm? The phrenic nerve. Answer: A B C D",
    "Hypertension raises the risk of stroke. Aspirin, insulin, metformin, vitamin D.",
    "بیمار تب و سردرد دارد. آب بنوشید و استراحت کنید. می‌توانید به پزشک مراجعه کنید.",
    "فشار خون بالا خطر سکته را افزایش می‌دهد. پاسخ:",
]


def build_tokenizer(directory: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(CORPUS * 3, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(directory)
    return tokenizer


def build_tiny_llama(directory: Path, seed: int = 0) -> Path:
    """A 2-layer Llama with a ~400-token vocabulary, saved as a normal Hugging Face model directory."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(directory)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


CUSTOM_CONFIG_CODE = '''from transformers import LlamaConfig


class TinyCustomConfig(LlamaConfig):
    model_type = "tiny-custom"
'''
CUSTOM_MODEL_CODE = '''from transformers import LlamaForCausalLM

from .configuration_tinycustom import TinyCustomConfig


class TinyCustomForCausalLM(LlamaForCausalLM):
    config_class = TinyCustomConfig
'''


def build_custom_code_model(directory: Path, base: Path) -> Path:
    """``base`` (a tiny Llama directory) as a model that ships its own code, as InternLM2 does: its config.json
    maps AutoConfig / AutoModelForCausalLM (``auto_map``) to Python files beside the weights, which transformers
    runs only with ``trust_remote_code=True``."""
    import json
    import shutil

    shutil.copytree(base, directory)
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    config.update(model_type="tiny-custom", architectures=["TinyCustomForCausalLM"], auto_map={
        "AutoConfig": "configuration_tinycustom.TinyCustomConfig",
        "AutoModelForCausalLM": "modeling_tinycustom.TinyCustomForCausalLM"})
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (directory / "configuration_tinycustom.py").write_text(CUSTOM_CONFIG_CODE, encoding="utf-8")
    (directory / "modeling_tinycustom.py").write_text(CUSTOM_MODEL_CODE, encoding="utf-8")
    return directory
