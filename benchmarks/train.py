"""Stage-2 SFT throughput: padding-free batches (medadapt's `padding_free: true`) against padded batches.

Input: the bundled demo Q&A (English and Persian) as chats of very different lengths (as in real
doctor–patient data), tokenised with the assistant mask by medadapt's own code. Model: a random
Llama with SmolLM2-135M's width (576) but 2 layers and a 32,768-token output layer (SmolLM2's: 49,152),
the byte-level test tokenizer, LoRA on all linear layers, fp32 on CPU, one thread.

Both load the model as `medadapt train` does (medadapt.train.setup.load_trainable_model) and train with
TRL's SFTTrainer. Baseline: padded batches (each batch padded to its longest chat), transformers' sdpa
attention. Ours: padding_free=True: a batch is one row whose position_ids restart per chat, and the attention
runs per chat (medadapt.train.packed_attention) rather than over the row with a block-diagonal mask;
tests/train/test_padding_free.py checks the loss is the padded one. Both train the same steps on the same
chats in the same order (same seed): the same real tokens, which the script checks. tokens/s counts real
(non-padding) tokens.

    python benchmarks/train.py           # 12 steps of 8 chats
    python benchmarks/train.py --quick   # 2 steps
Goal: ≥ 1.5×. The last line is the ratio (padding-free ÷ padded tokens/s).

Setting `--gemma` (needs `pip install 'medadapt[gemma]'`): the same chats on Gemma-3-270M (262,144-row output
layer) with its chat template, both padding-free. Baseline: today's padding-free path, TRL's fused LM head,
which on a CPU projects every position. Ours: the output layer and loss only at labelled (assistant) positions
(medadapt.train.labelled_head, what `medadapt train` does on CPU). Both runs' training losses are printed and
must agree within 1e-4 (relative).

    python benchmarks/train.py --gemma           # 4 steps of 4 chats, 2 threads
    python benchmarks/train.py --gemma --quick   # 1 step
Goal: ≥ 1.5×. The last line is the ratio (labelled-only ÷ every-position tokens/s).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from tiny import build_tokenizer  # noqa: E402  (the tests' byte-level BPE tokenizer with a ChatML template)

from medadapt.train.config import SFTStageConfig  # noqa: E402
from medadapt.train.labelled_head import project_labelled_only  # noqa: E402
from medadapt.train.setup import load_trainable_model  # noqa: E402
from medadapt.train.sft import build_sft_dataset, sft_arguments  # noqa: E402

QA_FILE = ROOT / "src/medadapt/resources/demo/qa.jsonl"
BATCH, MAX_LENGTH = 8, 384


def chats(seed: int = 0) -> list[dict]:
    """Chats of very different lengths from the demo Q&A: most are a question with a one-sentence answer,
    some the full answer, a few two or three full turns (as in forum data: many short, a long tail)."""
    pairs = [json.loads(line) for line in QA_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    rows = []
    for i in range(len(pairs)):
        kind = rng.choices(["short", "full", "multi"], weights=[8, 1, 1])[0]
        picked = rng.sample(pairs, 1 if kind != "multi" else rng.choice([2, 3]))
        messages = []
        for pair in picked:
            answer = pair["answer"].split(". ")[0] + "." if kind == "short" else pair["answer"]
            messages += [{"role": "user", "content": pair["question"]}, {"role": "assistant", "content": answer}]
        rows.append({"id": str(i), "messages": messages})
    return rows


def small_llama(directory: Path, vocab: int) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    # SmolLM2-135M's width, 2 of its 30 layers, a large output layer: as in real models it is a big share of
    # the cost per token (ids above the test tokenizer's stay unused)
    config = LlamaConfig(vocab_size=max(vocab, 32768), hidden_size=576, intermediate_size=1536, num_hidden_layers=2,
                         num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=MAX_LENGTH,
                         tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


def measure(model_dir: Path, tokenizer, examples: list[dict], steps: int, padding_free: bool, work: Path,
            batch: int = BATCH, labelled_only: bool = False):
    """(real tokens, padded tokens, seconds, training loss) of ``steps`` optimizer steps; ``labelled_only``: the
    output layer only at labelled positions."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    # LoRA r=8, alpha=16 on all linear layers, without dropout
    cfg = SFTStageConfig(max_steps=steps, batch_size=batch, max_length=MAX_LENGTH, padding_free=padding_free,
                         save_steps=10_000, lora={"dropout": 0.0})
    trainer = SFTTrainer(model=load_trainable_model(str(model_dir), cfg, "fp32", cuda=False, seed=0),
                         args=sft_arguments(cfg, work / f"{padding_free}-{labelled_only}", seed=0),
                         train_dataset=Dataset.from_list(examples), processing_class=tokenizer)
    trainer.remove_callback(PrinterCallback)
    if labelled_only and not project_labelled_only(trainer.model):
        raise SystemExit("this model keeps TRL's head (its logits are scaled)")
    counts = {"real": 0, "fed": 0}
    forward = trainer.model.forward

    def counting_forward(*a, **kw):
        mask = kw.get("attention_mask")  # padded batches have one; a padding-free row is all real tokens
        counts["real"] += int(mask.sum()) if mask is not None else kw["input_ids"].numel()
        counts["fed"] += kw["input_ids"].numel()
        return forward(*a, **kw)

    trainer.model.forward = counting_forward
    started = time.perf_counter()
    result = trainer.train()
    return counts["real"], counts["fed"], time.perf_counter() - started, result.training_loss


def padded_vs_padding_free(steps: int) -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tokenizer = build_tokenizer(work / "model")
        model_dir = small_llama(work / "model", len(tokenizer))
        examples, _ = build_sft_dataset(tokenizer, chats(), MAX_LENGTH)
        lengths = sorted(len(e["input_ids"]) for e in examples)
        print(f"{len(examples)} chats, tokens per chat: min {lengths[0]}, median {lengths[len(lengths) // 2]}, "
              f"max {lengths[-1]}; {steps} steps of {BATCH} chats")
        results = {}
        for name, padding_free in (("padded (baseline)", False), ("padding-free (ours)", True)):
            real, fed, seconds, _ = measure(model_dir, tokenizer, examples, steps, padding_free, work)
            results[name] = (real, fed, seconds)
            print(f"{name:22s} real tokens {real:7d}  tokens fed {fed:7d}  {seconds:6.1f} s  {real / seconds:8.0f} tokens/s")
    (base_real, _, base_s), (ours_real, _, ours_s) = results.values()
    if base_real != ours_real:
        raise SystemExit(f"the two runs saw different real tokens: {base_real} vs {ours_real}")
    print(f"speed-up (padding-free ÷ padded tokens/s): {(ours_real / ours_s) / (base_real / base_s):.2f}x")


def gemma_labelled_positions(steps: int, batch: int = 4) -> None:
    from medadapt.models import resolve_model
    from medadapt.models.chat import load_chat_tokenizer

    torch.set_num_threads(2)
    model_dir = Path(resolve_model("gemma3-270m"))
    tokenizer = load_chat_tokenizer("gemma3-270m", "gemma")
    examples, _ = build_sft_dataset(tokenizer, chats(), MAX_LENGTH)
    used = examples[: steps * batch]
    labelled = sum(sum(e["assistant_masks"]) for e in used) / sum(len(e["input_ids"]) for e in used)
    print(f"Gemma-3-270M (vocabulary {len(tokenizer)}), {steps} steps of {batch} chats, padding-free; "
          f"{labelled:.0%} of their tokens are assistant tokens (labelled)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, labelled_only in (("every position (TRL)", False), ("labelled only (ours)", True)):
            real, _, seconds, loss = measure(model_dir, tokenizer, examples, steps, True, Path(tmp), batch,
                                             labelled_only)
            results[name] = (real, seconds, loss)
            print(f"{name:22s} tokens {real:6d}  {seconds:6.1f} s  {real / seconds:7.1f} tokens/s  "
                  f"training loss {loss:.6f}")
    (base_real, base_s, base_loss), (ours_real, ours_s, ours_loss) = results.values()
    if base_real != ours_real:
        raise SystemExit(f"the two runs saw different tokens: {base_real} vs {ours_real}")
    difference = abs(ours_loss - base_loss) / abs(base_loss)
    print(f"training loss relative difference {difference:.2e} (limit 1e-4)")
    if difference > 1e-4:
        raise SystemExit("the labelled-only head trained to another loss")
    print(f"speed-up (labelled-only ÷ every-position tokens/s): {(ours_real / ours_s) / (base_real / base_s):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (2, or 1 with --gemma)")
    parser.add_argument("--gemma", action="store_true",
                        help="Gemma-3-270M: output layer at labelled positions only vs at every position")
    args = parser.parse_args()
    from transformers.utils import logging

    logging.set_verbosity_error()
    if args.gemma:
        gemma_labelled_positions(1 if args.quick else 4)
    else:
        padded_vs_padding_free(2 if args.quick else 12)


if __name__ == "__main__":
    main()
