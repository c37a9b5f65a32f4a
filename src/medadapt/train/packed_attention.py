"""Attention for padding-free batches: each chat of a packed row attends only to itself, one chat at a time.

A padding-free batch is one row of chats whose ``position_ids`` restart at 0 for each chat, with no attention
mask. transformers' ``sdpa`` runs such a row as one attention over the whole row with a dense block-diagonal
mask, (Σ Lᵢ)² scores of which only Σ Lᵢ² are used, after building that mask. The kernels that take the chat
boundaries instead (flash-attention's varlen, ``torch.nn.attention.varlen``) exist for CUDA only. This
implementation, registered through transformers' ``AttentionInterface``, calls transformers' own SDPA attention
once per chat with ``is_causal``, on CPU as on GPU: the same result (``tests/train/test_padding_free.py``) for
Σ Lᵢ² of the work and no mask at all.
"""

from __future__ import annotations

from typing import Any

PACKED_SDPA = "medadapt_packed_sdpa"


def packed_sdpa_attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
                          position_ids: Any = None, **kwargs: Any) -> tuple[Any, None]:
    """transformers' ``sdpa_attention_forward`` on each chat of the row (query/key/value: batch, heads, tokens,
    head dim); the chats' outputs are joined again as (1, tokens, heads, head dim)."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if attention_mask is not None or position_ids is None or query.shape[0] != 1:
        raise ValueError(f"{PACKED_SDPA} attention needs padding-free batches (one row, position_ids, no mask)")
    starts = (position_ids[0] == 0).nonzero().flatten().tolist()
    bounds = [0, *[start for start in starts if start > 0], query.shape[2]]
    chats = [sdpa_attention_forward(module, query[:, :, begin:end], key[:, :, begin:end], value[:, :, begin:end],
                                    None, is_causal=True, **kwargs)[0]
             for begin, end in zip(bounds, bounds[1:])]
    return torch.cat(chats, dim=1), None


def plain_causal_attention(config: Any) -> bool:
    """Whether every layer attends causally to the whole sequence (no sliding window), which is what
    :func:`packed_sdpa_attention` computes."""
    layer_types = getattr(config, "layer_types", None)
    if layer_types is not None:
        return set(layer_types) == {"full_attention"}
    return getattr(config, "sliding_window", None) is None


def use_packed_attention(model: Any) -> None:
    """Switch ``model`` to :func:`packed_sdpa_attention` where it computes what the model's attention does."""
    if not plain_causal_attention(model.config):
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, flash_attention_mask

    AttentionInterface.register(PACKED_SDPA, packed_sdpa_attention)
    # like flash-attention, no mask is built for a packed row: the position_ids give the chats' bounds
    AttentionMaskInterface.register(PACKED_SDPA, flash_attention_mask)
    model.set_attn_implementation(PACKED_SDPA)
