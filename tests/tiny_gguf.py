"""Write a tiny Hugging Face Llama directory as a GGUF file, the way llama.cpp's converter would.

The embedded models ship as GGUF files, and downloading a real one in tests is not an option, so the GGUF
path (``convert_gguf``) is tested on a file made here from ``tiny.build_tiny_llama``. It mirrors what
``convert_hf_to_gguf.py`` writes for SmolLM2 (and what transformers' legacy GGUF loader reads back in
``modeling_gguf_pytorch_utils.load_gguf_checkpoint`` and ``integrations/gguf/gguf_tokenizer_mapping.py``):
arch ``llama``, llama.cpp tensor names, Q/K rows permuted for llama.cpp's RoPE layout, hyper-parameters
under ``llama.*`` and a ``gpt2`` (byte-level BPE) vocabulary with merges, token types, special ids and the
chat template. Tensors stay F32 so the round trip is exact and any difference is a real bug.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Hugging Face Llama parameter name (per layer, after ``model.layers.N.``) -> llama.cpp name (after ``blk.N.``).
LAYER_TENSORS = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
GLOBAL_TENSORS = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",  # only present when the embeddings are not tied
}


def llama_cpp_permute(weights: np.ndarray, n_head: int, n_head_kv: int | None = None) -> np.ndarray:
    """llama.cpp's ``LlamaModel.permute``: interleave each head's two rotary halves.

    transformers' ``LlamaTensorProcessor._reverse_permute_weights`` undoes exactly this, so a file written
    without it would load with scrambled Q/K rows.
    """
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def gguf_tensor_name(hf_name: str) -> str:
    """llama.cpp's name for a Hugging Face Llama parameter."""
    if hf_name in GLOBAL_TENSORS:
        return GLOBAL_TENSORS[hf_name]
    parts = hf_name.split(".", 3)
    if len(parts) != 4 or parts[:2] != ["model", "layers"] or parts[3] not in LAYER_TENSORS:
        raise KeyError(f"no llama.cpp name for {hf_name}")
    layer, rest = parts[2], parts[3]
    return f"blk.{layer}.{LAYER_TENSORS[rest]}"


def _token_types(tokenizer, vocab_size: int) -> list[int]:
    """NORMAL, CONTROL for special added tokens, USER_DEFINED for other added tokens (as llama.cpp marks them)."""
    from gguf import TokenType

    types = [int(TokenType.NORMAL)] * vocab_size
    for token_id, added in tokenizer.added_tokens_decoder.items():
        types[token_id] = int(TokenType.CONTROL if added.special else TokenType.USER_DEFINED)
    return types


def write_llama_gguf(model_dir: Path, gguf_path: Path, *, permute: bool = True) -> Path:
    """Write the Llama model in ``model_dir`` (config.json, model.safetensors, tokenizer) to ``gguf_path``.

    ``permute=False`` writes Q/K as Hugging Face lays them out, i.e. a wrong file: tests use it to show the
    loader really reverses the permutation (so a round trip that matches is not a no-op).
    """
    import gguf
    from safetensors.numpy import load_file
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    state = load_file(str(Path(model_dir) / "model.safetensors"))
    if config.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # llama.cpp writes no output.weight for tied embeddings

    n_head, n_head_kv = config.num_attention_heads, config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // n_head
    rope = getattr(config, "rope_parameters", None) or {}
    rope_theta = rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))

    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    vocab = tokenizer.get_vocab()
    tokens = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise ValueError("tokenizer ids are not contiguous from 0; llama.cpp's token list cannot express that")
    merges = [m if isinstance(m, str) else " ".join(m) for m in backend["model"]["merges"]]

    gguf_path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(gguf_path), "llama")
    writer.add_type("model")
    writer.add_name("tiny llama")
    writer.add_block_count(config.num_hidden_layers)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_freq_base(float(rope_theta))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_vocab_size(config.vocab_size)
    writer.add_rope_dimension_count(head_dim)

    writer.add_add_space_prefix(False)
    writer.add_add_bos_token(bool(getattr(tokenizer, "add_bos_token", False)))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")  # SmolLM2's value; transformers keeps the GPT-2 split for it
    writer.add_token_list(tokens)
    writer.add_token_types(_token_types(tokenizer, len(tokens)))
    writer.add_token_merges(merges)
    for token_id, add in (
        (tokenizer.bos_token_id, writer.add_bos_token_id),
        (tokenizer.eos_token_id, writer.add_eos_token_id),
        (tokenizer.unk_token_id, writer.add_unk_token_id),
        (tokenizer.pad_token_id, writer.add_pad_token_id),
    ):
        if token_id is not None:
            add(token_id)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)

    for hf_name in sorted(state):
        weights = np.ascontiguousarray(state[hf_name], dtype=np.float32)
        if permute and hf_name.endswith("self_attn.q_proj.weight"):
            weights = llama_cpp_permute(weights, n_head, n_head)
        elif permute and hf_name.endswith("self_attn.k_proj.weight"):
            weights = llama_cpp_permute(weights, n_head, n_head_kv)
        writer.add_tensor(gguf_tensor_name(hf_name), np.ascontiguousarray(weights))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return gguf_path


def build_tiny_smollm2(directory: Path, seed: int = 0) -> Path:
    """A 2-layer random Llama with the embedded SmolLM2's own tokenizer and chat template (read from its GGUF),
    saved as a Hugging Face directory. llama.cpp's converter recognises a BPE vocabulary by its pre-tokenizer's
    output on a fixed text, so only a real model's vocabulary converts; tiny weights keep it seconds."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from medadapt.models.catalog import aliases, find_gguf

    embedded = find_gguf(aliases()["smollm2-135m"])
    tokenizer = AutoTokenizer.from_pretrained(str(embedded.parent), gguf_file=embedded.name)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(directory)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory
