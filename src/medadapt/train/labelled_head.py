"""The output layer and the loss only where a token has a label, on devices without Triton (the CPU).

TRL's SFTTrainer computes its loss through a fused LM head (``trl.trainer.utils.add_fused_lm_head``): the
vocabulary is cut into tiles folded into an online log-sum-exp, so the (tokens × vocabulary) logits never
exist at once. On CUDA/XPU it projects only the positions whose label is not −100; elsewhere it projects every
position, prompt tokens included, and zeroes them afterwards. On a CPU with Gemma-3's 262,144-row output
layer that projection costs more per token than the rest of the 270M model, and a chat's system and user
turns carry no label. Its torch fallback also makes about twenty passes over every tile (float copies,
scalings, masks for the top-1 flag) and multiplies each tile three times (forward, and again in the backward
to recompute it before the gradient product).

:func:`project_labelled_only` gives the model a fused forward that gathers the labelled positions' hidden
states first and scores them with :class:`LabelledLogProbs`: a few positions at a time, the logits of the
whole vocabulary, their log-softmax, entropy and top-1 flag, and, when a gradient is wanted, the gradient of
each log-probability with respect to its hidden state, computed right there from the probabilities already
in hand (the fused linear cross-entropy of Liger-Kernel, without Triton). The backward only scales those
saved gradients, so each tile is multiplied twice and never recomputed. The output layer must be frozen
(LoRA, as training on a CPU is); a trained output layer or a model whose logits TRL rescales keeps TRL's head.
The loss, gradients and the entropy/accuracy TRL logs are TRL's (``tests/train/test_labelled_head.py``).

Apple's cut-cross-entropy (PyPI 25.1.1) was the maintained candidate: on Linux it imports its Triton kernels
unconditionally (no Triton on a CPU-only torch), and its ``torch_compile`` implementation builds the whole
logits. TRL's own kernel runs on a CPU, with the costs above.
"""

from __future__ import annotations

import types
from typing import Any

import torch

#: Labelled positions per output-layer product (with 262,144 rows: 128 MB of fp32 logits at a time).
POSITIONS_PER_CHUNK = 128
#: Logit scalings TRL's head applies for a few families; a model with one keeps TRL's head.
SCALINGS = ("logit_scale", "output_multiplier", "lm_head_multiplier", "logits_scaling")


class LabelledLogProbs(torch.autograd.Function):
    """(log-probability of each target, entropy, whether the target is the first argmax) of ``hidden @ weight.T``
    (+ bias, soft-capped), with the gradient of the log-probabilities with respect to ``hidden`` computed in the
    forward. The weight and bias get no gradient; entropy and the top-1 flag are not differentiable."""

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, targets: torch.Tensor,
                softcap: float | None):
        wanted = ctx.needs_input_grad[0]
        h, w = hidden.detach().float(), weight.detach().float()
        empty = h.new_zeros(0)
        log_probs, entropy, top1, grads = [empty], [empty], [empty.bool()], [h.new_zeros(0, h.shape[1])]
        for start in range(0, h.shape[0], POSITIONS_PER_CHUNK):
            chunk, target = h[start: start + POSITIONS_PER_CHUNK], targets[start: start + POSITIONS_PER_CHUNK]
            logits = chunk @ w.t()
            if bias is not None:
                logits += bias.detach().float()
            capped = None
            if softcap is not None:
                capped = logits.div_(softcap).tanh_()  # kept for the derivative, 1 − tanh²
                logits = capped * softcap
            logits -= torch.logsumexp(logits, -1, keepdim=True)  # now log-probabilities
            probs = logits.exp()
            rows = torch.arange(len(target))
            log_probs.append(logits[rows, target])
            entropy.append(-torch.bmm(probs[:, None, :], logits[:, :, None]).flatten())
            top1.append(logits.argmax(-1) == target)
            if wanted:  # d log p_t / d logits = onehot_t − p
                probs[rows, target] -= 1
                if capped is not None:
                    probs *= 1 - capped * capped
                grads.append(-(probs @ w))
        ctx.save_for_backward(torch.cat(grads) if wanted else empty)
        ctx.dtype = hidden.dtype
        result = torch.cat(log_probs), torch.cat(entropy), torch.cat(top1)
        ctx.mark_non_differentiable(result[1], result[2])
        return result

    @staticmethod
    def backward(ctx, grad_log_probs: torch.Tensor, *_):  # type: ignore[override]
        (grads,) = ctx.saved_tensors
        return (grads * grad_log_probs.float()[:, None]).to(ctx.dtype), None, None, None, None


def project_labelled_only(model: Any) -> bool:
    """Give ``model`` (a PEFT model or a causal LM that TRL's SFTTrainer has patched) a fused forward that
    scores only labelled positions with :class:`LabelledLogProbs`; False (nothing changed) for a model whose
    output layer trains or whose logits TRL rescales or adds router losses to, which keep TRL's own head."""
    from trl.trainer.utils import FusedCausalLMOutput

    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    text_config = causal.config.get_text_config()
    head = causal.get_output_embeddings()
    if any(getattr(text_config, name, None) is not None for name in SCALINGS) or \
            getattr(text_config, "output_router_logits", False) or head.weight.requires_grad or \
            (head.bias is not None and head.bias.requires_grad):
        return False
    softcap = getattr(text_config, "final_logit_softcapping", None)
    fused = causal.forward  # TRL's: without fused_lm_head it is the model's own forward

    def forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None, **kwargs):
        if not fused_lm_head:
            return fused(*args, labels=labels, shift_labels=shift_labels, num_items_in_batch=num_items_in_batch,
                         **kwargs)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state
        if shift_labels is None:
            hidden, labels = hidden[:, :-1], labels[:, 1:]
        else:
            labels = shift_labels
        head = self.get_output_embeddings()
        labels = labels.to(head.weight.device)
        mask = labels != -100
        per_token = LabelledLogProbs.apply(hidden.to(head.weight.device)[mask], head.weight, head.bias, labels[mask],
                                           softcap)
        # masked_scatter keeps an all-unlabelled micro-batch connected to the graph (a zero loss, not an error)
        log_probs, entropy, is_top1 = (x.new_zeros(mask.shape).masked_scatter(mask, x) for x in per_token)
        count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
        return FusedCausalLMOutput(loss=-log_probs.sum() / torch.as_tensor(count), log_probs=log_probs,
                                   entropy=entropy, is_top1=is_top1, label_mask=mask)

    causal.forward = types.MethodType(forward, causal)
    return True
