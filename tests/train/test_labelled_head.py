"""The labelled-positions head (medadapt.train.labelled_head) gives TRL's fused head's loss, gradients, entropy and
token accuracy, while projecting only the positions that have a label; for a Llama and for a Gemma-3 with a final
logit soft-cap, on padded and padding-free batches; and in a no-grad evaluation, and with no labelled position."""

from __future__ import annotations

import pytest
import torch

from helpers import CHATS
from medadapt.train.config import SFTStageConfig
from medadapt.train import labelled_head
from medadapt.train.labelled_head import project_labelled_only
from medadapt.train.sft import build_sft_dataset, sft_arguments


def tiny_gemma(directory, tokenizer):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    config = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=512,
                              sliding_window=16, final_logit_softcapping=5.0, pad_token_id=tokenizer.pad_token_id,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    Gemma3ForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def fused(model, batch):
    """Loss, LoRA gradients, entropy and top-1 sums of the fused forward TRL's compute_loss calls."""
    model.zero_grad()
    out = model(**batch, fused_lm_head=True)
    out.loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return out.loss.item(), grads, out.entropy.sum().item(), int(out.is_top1.sum()), out.label_mask


@pytest.mark.parametrize("family", ["llama", "gemma"])
@pytest.mark.parametrize("padding_free", [False, True])
def test_same_loss_and_gradients_as_trl_head_on_labelled_rows_only(tmp_path, tiny_model_dir, tiny_tokenizer,
                                                                   monkeypatch, family, padding_free):
    from datasets import Dataset
    from trl import SFTTrainer

    from medadapt.train.setup import load_trainable_model

    model_dir = tiny_model_dir if family == "llama" else tiny_gemma(tmp_path / "gemma", tiny_tokenizer)
    cfg = SFTStageConfig(max_steps=1, max_length=256, padding_free=padding_free, lora={"dropout": 0.0})
    examples, _ = build_sft_dataset(tiny_tokenizer, [{"messages": m} for m in CHATS[:4]], max_length=256)
    trainer = SFTTrainer(model=load_trainable_model(str(model_dir), cfg, "fp32", cuda=False, seed=0),
                         args=sft_arguments(cfg, tmp_path / "work", seed=0), train_dataset=Dataset.from_list(examples),
                         processing_class=tiny_tokenizer)
    model = trainer.model
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(examples))])
    trl_loss, trl_grads, trl_entropy, trl_top1, mask = fused(model, batch)

    projected = []
    kernel = labelled_head.LabelledLogProbs

    class Counting(kernel):
        @staticmethod
        def forward(ctx, hidden, *args):
            projected.append(hidden.shape[0])
            return kernel.forward(ctx, hidden, *args)

    monkeypatch.setattr(labelled_head, "LabelledLogProbs", Counting)
    assert project_labelled_only(model)
    loss, grads, entropy, top1, our_mask = fused(model, batch)

    assert projected == [int(mask.sum())] and int(mask.sum()) < mask.numel() / 2  # the prompts are not projected
    assert torch.equal(mask, our_mask)
    assert abs(loss - trl_loss) <= 1e-4 * abs(trl_loss)
    assert abs(entropy - trl_entropy) <= 1e-4 * abs(trl_entropy) and top1 == trl_top1
    assert grads.keys() == trl_grads.keys()
    for name, grad in grads.items():
        assert torch.allclose(grad, trl_grads[name], rtol=1e-4, atol=1e-6), name
    with torch.no_grad():  # and the model's own forward (generation, lm-eval) is untouched
        assert abs(model(**batch).loss.item() - trl_loss) <= 1e-4 * trl_loss


def test_scaled_logits_or_a_trained_output_layer_keep_trl_head(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)  # every parameter trains: full fine-tuning
    before = model.forward
    assert not project_labelled_only(model)
    model.requires_grad_(False)
    model.config.logit_scale = 0.5
    assert not project_labelled_only(model)
    assert model.forward == before


def test_no_grad_and_no_labelled_position():
    torch.manual_seed(0)
    hidden, weight = torch.randn(5, 8, requires_grad=True), torch.randn(40, 8)
    targets = torch.tensor([3, 0, 39, 7, 7])
    reference = torch.log_softmax(torch.tanh(hidden @ weight.t() / 2.0) * 2.0, -1)[torch.arange(5), targets]
    with torch.no_grad():
        log_probs, entropy, top1 = labelled_head.LabelledLogProbs.apply(hidden, weight, None, targets, 2.0)
    assert torch.allclose(log_probs, reference, atol=1e-6)
    log_probs, _, _ = labelled_head.LabelledLogProbs.apply(hidden[:0], weight, None, targets[:0], None)
    log_probs.sum().backward()  # an empty batch of labels still backpropagates (a zero gradient)
    assert log_probs.shape == (0,) and torch.equal(hidden.grad, torch.zeros_like(hidden))
