"""One GPU-only part of the paper recipes, run at toy size on one CUDA GPU: `benchmarks/gpu_check.sh` runs each
in its own process and prints the summary.

Parts (the recipe that needs each, in brackets):
  qlora  LoRA on a 4-bit NF4 base (MMed-IFT stage 2, BiMediX): the base's linear layers must be bitsandbytes
         Linear4bit, then `medadapt run` (data → train, 4 steps, merge) on a tiny random Llama.
  qdora  DoRA on a 4-bit base (MMed-IFT stage 1): the same, with DoRA's magnitude vectors on the 4-bit layers,
         trained as MMed-IFT does: stage 1 instruction tuning (objective: sft) → merge → stage 2 QLoRA.
  moe    Mixtral-style targets on a tiny random MoE under QLoRA (BiMediX): q, k, v + the fused experts and the
         router (PEFT target_parameters) must all train.
  zero2  DeepSpeed ZeRO-2 (CollectiveSFT, BiMediX): `accelerate launch` with medadapt's shipped
         accelerate_zero2.yaml on one process, full fine-tuning of the tiny Llama, bf16.
  vllm   generation through the vllm backend (kind: vllm) on the tiny Llama.

Each part prints one line, `PASS part: …`, `FAIL part: …` or `SKIP part: <reason>`, and exits 0, 1 or 77 (77:
skipped). Nothing is downloaded: the models are random and built here (the tests' byte-level tokenizer),
the data is the bundled demo. `python benchmarks/gpu_check.py PART [--keep DIR]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from tiny import build_tokenizer  # noqa: E402  (the tests' byte-level BPE tokenizer with a ChatML template)

SKIPPED = 77
PARTS = ("qlora", "qdora", "moe", "zero2", "vllm")
STEPS = 4
LAUNCH_DIR = ROOT / "src" / "medadapt" / "train" / "launch"
#: the bundled demo files as the data stage reads them: Q&A → stage-2 chats, articles → stage-1 text
DATA = {"sources": [{"path": "medadapt://demo/qa.jsonl", "format": "qa"},
                    {"path": "medadapt://demo/articles.jsonl", "format": "article"}], "dev_fraction": 0.1}
#: MMed-IFT's split: Q&A chats instruction-tune stage 1 (stage1_chat.jsonl), exam MCQs train stage 2
STAGED_DATA = {"sources": [{"path": "medadapt://demo/qa.jsonl", "format": "qa", "stage": 1},
                           {"path": "medadapt://demo/mcqa.jsonl", "format": "mcqa"}], "dev_fraction": 0.1}


class Skip(Exception):
    """The part cannot run here; the message says why."""


class Fail(Exception):
    """The part ran and did not do what it must."""


def require(module: str, hint: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise Skip(f"{module} is not installed ({hint})")


def require_cuda() -> None:
    import torch

    if not torch.cuda.is_available():
        raise Skip("no CUDA GPU")


def tiny_model(directory: Path, moe: bool = False) -> Path:
    """A random 2-layer Llama (or Mixtral with 4 experts), widths that bitsandbytes' 4-bit blocks divide."""
    from transformers import LlamaConfig, LlamaForCausalLM, MixtralConfig, MixtralForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(directory)
    shape = dict(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                 bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                 pad_token_id=tokenizer.pad_token_id)
    model = (MixtralForCausalLM(MixtralConfig(**shape, num_local_experts=4, num_experts_per_tok=2)) if moe
             else LlamaForCausalLM(LlamaConfig(**shape)))
    model.save_pretrained(directory)
    return directory


def stage(**options) -> dict:
    return {"max_steps": STEPS, "batch_size": 2, "learning_rate": 1e-3, "max_length": 256, "save_steps": 2,
            "dev_max_examples": 4, **options}


def run_recipe(work: Path, train: dict, launch: list[str] | None = None, data: dict = DATA) -> dict:
    """`medadapt run` (data → train; under ``launch``, `medadapt train` after a plain data stage) on the recipe;
    train/summary.json."""
    recipe = {"name": "gpu-check", "languages": ["en", "fa"], "model": str(work / "model"), "seed": 0,
              "report": False, "data": data, "train": train}
    path = work / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    medadapt = str(Path(sys.executable).with_name("medadapt"))
    runs = ["--runs-dir", str(work / "runs")]
    commands = [[medadapt, "run", str(path), *runs]] if launch is None else [
        [medadapt, "data", str(path), *runs], [*launch, medadapt, "train", str(path), *runs]]
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, cwd=work)
        if done.returncode:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise Fail(f"`{' '.join(command[-4:])}` exited {done.returncode}: {lines[-1] if lines else ''}")
    summary = json.loads((work / "runs" / "gpu-check" / "train" / "summary.json").read_text(encoding="utf-8"))
    if summary["steps"] != STEPS or not math.isfinite(summary["train_loss"]):
        raise Fail(f"trained {summary['steps']} steps (wanted {STEPS}), loss {summary['train_loss']}")
    if summary["device"] != "cuda":
        raise Fail(f"trained on {summary['device']}")
    return summary


def quantised_layers(model_dir: Path, method: str, **lora) -> tuple[int, int, set[str]]:
    """Load the base as training does; (4-bit linear layers, DoRA magnitude vectors, names trained)."""
    import bitsandbytes as bnb

    from medadapt.train.config import SFTStageConfig
    from medadapt.train.setup import load_trainable_model

    cfg = SFTStageConfig(method=method, **({"lora": lora} if lora else {}))
    model = load_trainable_model(str(model_dir), cfg, "bf16", cuda=True, seed=0)
    four_bit = sum(isinstance(m, bnb.nn.Linear4bit) for m in model.modules())
    trained = {name for name, p in model.named_parameters() if p.requires_grad}
    return four_bit, sum("lora_magnitude_vector" in n for n in trained), trained


def check_qlora(work: Path) -> str:
    require_cuda()
    require("bitsandbytes", "pip install -e '.[gpu]'")
    tiny_model(work / "model")
    four_bit, magnitudes, _ = quantised_layers(work / "model", "qlora")
    if not four_bit or magnitudes:
        raise Fail(f"{four_bit} Linear4bit layers, {magnitudes} DoRA magnitudes (want > 0 and 0)")
    summary = run_recipe(work, {"stage2": stage(method="qlora", precision="bf16")})
    merged = work / "runs" / "gpu-check" / "train" / "merged"
    if not (merged / "config.json").is_file() or "quantization_config" in json.loads((merged / "config.json").read_text()):
        raise Fail("train/merged/ missing or still 4-bit (the merge must re-load the base in 16-bit)")
    return f"{four_bit} Linear4bit layers; {summary['steps']} steps, loss {summary['train_loss']}, merged in 16-bit"


def check_qdora(work: Path) -> str:
    require_cuda()
    require("bitsandbytes", "pip install -e '.[gpu]'")
    tiny_model(work / "model")
    four_bit, magnitudes, _ = quantised_layers(work / "model", "qdora")
    if not four_bit or not magnitudes:
        raise Fail(f"{four_bit} Linear4bit layers, {magnitudes} DoRA magnitude vectors (want both > 0)")
    summary = run_recipe(work, {"stage1": stage(objective="sft", method="qdora", precision="bf16"),
                                "stage2": stage(method="qlora", precision="bf16")}, data=STAGED_DATA)
    if summary["stage1"].get("objective") != "sft" or summary["stage1"]["steps"] != STEPS:
        raise Fail(f"stage 1 summary: {summary['stage1']}")
    adapter = json.loads((work / "runs/gpu-check/train/stage1/adapter/adapter_config.json").read_text())
    if not adapter.get("use_dora"):
        raise Fail("the stage-1 adapter is not DoRA")
    return (f"{four_bit} Linear4bit layers with {magnitudes} DoRA magnitudes; stage 1 sft loss "
            f"{summary['stage1']['train_loss']} → merge → stage 2 qlora loss {summary['train_loss']}")


MOE_LORA = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj"],
            "target_parameters": ["mlp.experts.gate_up_proj", "mlp.experts.down_proj", "mlp.gate.weight"]}


def check_moe(work: Path) -> str:
    require_cuda()
    require("bitsandbytes", "pip install -e '.[gpu]'")
    tiny_model(work / "model", moe=True)
    four_bit, _, trained = quantised_layers(work / "model", "qlora", **MOE_LORA)
    wanted = {"q_proj": False, "k_proj": False, "v_proj": False, "experts": False, "mlp.gate": False}
    for name in trained:
        for part in wanted:
            wanted[part] |= part in name
    if missing := [part for part, found in wanted.items() if not found]:
        raise Fail(f"no trainable adapter on {', '.join(missing)}")
    summary = run_recipe(work, {"stage2": stage(method="qlora", precision="bf16", lora=MOE_LORA)})
    return (f"{four_bit} Linear4bit layers; adapters on q, k, v, experts and router ({len(trained)} tensors); "
            f"{summary['steps']} steps, loss {summary['train_loss']}")


def check_zero2(work: Path) -> str:
    require_cuda()
    require("deepspeed", "pip install -e '.[gpu]'")
    tiny_model(work / "model")
    accelerate = str(Path(sys.executable).with_name("accelerate"))
    launch = [accelerate, "launch", "--config_file", str(LAUNCH_DIR / "accelerate_zero2.yaml"), "--num_processes", "1"]
    summary = run_recipe(work, {"stage2": stage(method="full", precision="bf16"), "distributed": "zero2"}, launch)
    if not (work / "runs/gpu-check/train/model/config.json").is_file():
        raise Fail("no train/model/ after full fine-tuning under ZeRO-2")
    return f"accelerate launch + accelerate_zero2.yaml, 1 process: {summary['steps']} steps, loss {summary['train_loss']}"


def check_vllm(work: Path) -> str:
    require_cuda()
    require("vllm", "pip install vllm")
    from medadapt.llm.backend import ChatRequest
    from medadapt.llm.vllm_backend import VLLMBackend

    backend = VLLMBackend(str(tiny_model(work / "model")), batch_size=4)
    requests = [ChatRequest(messages=(("user", text),), max_tokens=16, temperature=0.0)
                for text in ("I have a fever.", "سردرد دارم")]
    completions = backend.generate(requests)
    if len(completions) != 2 or not all(c.completion_tokens > 0 and c.prompt_tokens > 0 for c in completions):
        raise Fail(f"completions: {completions}")
    return f"{len(completions)} completions, {sum(c.completion_tokens for c in completions)} tokens generated"


CHECKS = {"qlora": check_qlora, "qdora": check_qdora, "moe": check_moe, "zero2": check_zero2, "vllm": check_vllm}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it (default: a temporary one).")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix=f"gpu-check-{args.part}-") as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        try:
            detail = CHECKS[args.part](work)
        except Skip as skip:
            print(f"SKIP {args.part}: {skip}", flush=True)
            return SKIPPED
        except Exception as exc:  # a crash is this part's failure: one line, the others still run
            print(f"FAIL {args.part}: {type(exc).__name__ if not isinstance(exc, Fail) else 'check'}: "
                  f"{str(exc).splitlines()[0] if str(exc) else ''}", flush=True)
            return 1
    print(f"PASS {args.part}: {detail}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
