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


def measure(model_dir: Path, tokenizer, examples: list[dict], steps: int, padding_free: bool, work: Path):
    """(real tokens, padded tokens, seconds) of ``steps`` optimizer steps."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    # LoRA r=8, alpha=16 on all linear layers, without dropout
    cfg = SFTStageConfig(max_steps=steps, batch_size=BATCH, max_length=MAX_LENGTH, padding_free=padding_free,
                         save_steps=10_000, lora={"dropout": 0.0})
    trainer = SFTTrainer(model=load_trainable_model(str(model_dir), cfg, "fp32", cuda=False, seed=0),
                         args=sft_arguments(cfg, work / str(padding_free), seed=0),
                         train_dataset=Dataset.from_list(examples), processing_class=tokenizer)
    trainer.remove_callback(PrinterCallback)
    counts = {"real": 0, "fed": 0}
    forward = trainer.model.forward

    def counting_forward(*a, **kw):
        mask = kw.get("attention_mask")  # padded batches have one; a padding-free row is all real tokens
        counts["real"] += int(mask.sum()) if mask is not None else kw["input_ids"].numel()
        counts["fed"] += kw["input_ids"].numel()
        return forward(*a, **kw)

    trainer.model.forward = counting_forward
    started = time.perf_counter()
    trainer.train()
    return counts["real"], counts["fed"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 steps instead of 12")
    steps = 2 if parser.parse_args().quick else 12
    torch.set_num_threads(1)
    from transformers.utils import logging

    logging.set_verbosity_error()
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
            real, fed, seconds = measure(model_dir, tokenizer, examples, steps, padding_free, work)
            results[name] = (real, fed, seconds)
            print(f"{name:22s} real tokens {real:7d}  tokens fed {fed:7d}  {seconds:6.1f} s  {real / seconds:8.0f} tokens/s")
    (base_real, _, base_s), (ours_real, _, ours_s) = results.values()
    if base_real != ours_real:
        raise SystemExit(f"the two runs saw different real tokens: {base_real} vs {ours_real}")
    print(f"speed-up (padding-free ÷ padded tokens/s): {(ours_real / ours_s) / (base_real / base_s):.2f}x")


if __name__ == "__main__":
    main()
