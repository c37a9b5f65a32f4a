"""GGUF export with the project's own tools (the converter from llama-cpp-python's sdist, quantising through its
binding) and the llama.cpp backend on the result: chat, serve (limits, key, safety layer, intervention log),
generate's ``kind: llamacpp`` and free-form evaluation."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from tiny_gguf import build_tiny_smollm2
from typer.testing import CliRunner

from medadapt.cli.main import app

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python (the llamacpp extra; `make install` builds it)")

SYSTEM = "You are a careful medical assistant."
FILE_TYPES = {"f16": 1, "q8_0": 7, "q4_k_m": 15}  # llama.cpp's enum llama_ftype


@pytest.fixture(scope="module")
def gguf_run(tmp_path_factory) -> Path:
    """A run whose model is a tiny Llama with SmolLM2's vocabulary plus a trained LoRA adapter (export merges it)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = build_tiny_smollm2(tmp_path_factory.mktemp("base") / "tiny-smollm2")
    run = tmp_path_factory.mktemp("runs") / "tiny-gguf"
    run.mkdir()
    recipe = {"name": "tiny-gguf", "languages": ["en", "fa"], "model": str(base), "chat_template": None,
              "chat": {"system_prompt": SYSTEM, "max_new_tokens": 8, "temperature": 0.0},
              "train": {"stage2": {"method": "lora", "lora": {"r": 4, "alpha": 8}, "max_steps": 1}}}
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps({"name": "tiny-gguf", "recipe_hash": "cd" * 32, "stages": {}}))
    lora = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                          LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False))
    lora.save_pretrained(run / "train" / "adapter")
    AutoTokenizer.from_pretrained(base).save_pretrained(run / "train" / "adapter")
    return run


@pytest.fixture(scope="module")
def exported(gguf_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "tiny-gguf"
    result = CliRunner().invoke(app, ["export", str(gguf_run), "--to", str(out), "--gguf", "q8_0",
                                      "--gguf", "f16,q4_k_m"])
    assert result.exit_code == 0, result.output
    return out


def test_export_writes_each_type_with_the_chat_template_and_a_modelfile(exported):
    from transformers import AutoTokenizer

    template = AutoTokenizer.from_pretrained(exported).chat_template
    for kind, file_type in FILE_TYPES.items():
        llm = llama_cpp.Llama(model_path=str(exported / f"model-{kind}.gguf"), n_ctx=256, verbose=False)
        assert llm.metadata["tokenizer.chat_template"] == template
        assert int(llm.metadata["general.file_type"]) == file_type
    assert not list(exported.glob("*.partial"))  # the 32-bit intermediate is gone
    assert (exported / "README.md").is_file() and (exported / "medadapt.json").is_file()
    modelfile = (exported / "Modelfile").read_text(encoding="utf-8")
    assert "FROM ./model-q8_0.gguf" in modelfile and f'SYSTEM """{SYSTEM}"""' in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile


def test_the_gguf_computes_what_the_merged_model_computes(exported):
    """Same prompt tokens as the Hugging Face tokenizer renders, and the f16 file's next-token logits follow the
    merged model's (a wrong tensor mapping or Q/K layout would leave them uncorrelated)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from medadapt.llm.llamacpp import LlamaCppGenerator

    tokenizer = AutoTokenizer.from_pretrained(exported)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "I have a fever. تب دارم"}]
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    generator = LlamaCppGenerator(exported / "model-f16.gguf")
    assert generator.prompt_text(messages) == expected
    ids = generator.prompt_ids(messages)
    assert ids == tokenizer(expected, add_special_tokens=False)["input_ids"]
    scorer = llama_cpp.Llama(model_path=str(exported / "model-f16.gguf"), n_ctx=256, logits_all=True, verbose=False)
    scorer.eval(ids)
    ours = np.asarray(scorer.scores[len(ids) - 1])
    with torch.inference_mode():
        theirs = AutoModelForCausalLM.from_pretrained(exported)(torch.tensor([ids])).logits[0, -1].numpy()
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99


def test_chat_answers_from_the_gguf_with_the_runs_settings(exported):
    result = CliRunner().invoke(app, ["chat", str(exported / "model-q8_0.gguf"), "--rtl", "logical"],
                                input="Hello, I have a headache\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "run tiny-gguf" in result.output and result.output.count("assistant>") == 1


def test_streaming_counts_tokens_stops_and_seeds(exported):
    from medadapt.llm.llamacpp import LlamaCppGenerator
    from medadapt.llm.streaming import GenParams, StopFlag

    generator = LlamaCppGenerator(exported / "model-q8_0.gguf")
    messages = [{"role": "user", "content": "Tell me about fever"}]
    generation = generator.stream(messages, GenParams(max_new_tokens=5, temperature=0))
    pieces = list(generation)
    assert generation.completion_tokens == 5 and generation.finish_reason == "length" and pieces
    assert generation.prompt_tokens == len(generator.prompt_ids(messages))
    seeded = [list(generator.stream(messages, GenParams(max_new_tokens=6, temperature=1.0, seed=7))) for _ in "ab"]
    assert seeded[0] == seeded[1]
    stop = StopFlag()
    generation = generator.stream(messages, GenParams(max_new_tokens=50, temperature=0), stop)
    for _ in generation:
        stop.set()
    assert generation.completion_tokens == 1
    assert list(generator.stream(messages, GenParams(max_new_tokens=3, temperature=0)))  # the lock was released


def test_server_on_the_gguf_keeps_its_key_limits_and_safety_log(exported, tmp_path):
    import httpx
    from serve_helpers import running

    from medadapt.llm.llamacpp import LlamaCppGenerator
    from medadapt.serve.planner import ServeConfig
    from medadapt.serve.safety import SafetyLayer
    from medadapt.serve.server import create_app

    log = tmp_path / "interventions.jsonl"
    generator = LlamaCppGenerator(exported / "model-q8_0.gguf", "tiny-gguf")
    config = ServeConfig(model_id="tiny-gguf", api_key="secret", max_tokens_limit=16, default_max_tokens=6,
                         temperature=0.0)
    safety = SafetyLayer(languages=["en"], disclaimer="off", log_file=log)
    with running(create_app(generator, config, safety)) as base:
        url, key = f"{base}/v1/chat/completions", {"Authorization": "Bearer secret"}
        ask = {"model": "tiny-gguf", "messages": [{"role": "user", "content": "I have crushing chest pain"}]}
        assert httpx.post(url, json=ask, timeout=60).status_code == 401
        too_long = httpx.post(url, json={**ask, "max_tokens": 17}, headers=key, timeout=60)
        assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "max_tokens_too_large"
        answer = httpx.post(url, json=ask, headers=key, timeout=60).json()
        text = answer["choices"][0]["message"]["content"]
        assert text.startswith(safety.packs["en"].emergency_header)
        assert answer["usage"]["prompt_tokens"] == len(generator.prompt_ids(ask["messages"]))
        assert 0 < answer["usage"]["completion_tokens"] <= 6
        with httpx.stream("POST", url, json={**ask, "stream": True}, headers=key, timeout=60) as response:
            events = [line for line in response.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "data: [DONE]" and len(events) > 3
    logged = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["categories"] for e in logged if e["type"] == "red_flag"] == [["cardiac_chest_pain"]] * 2


def test_generate_backend_and_free_form_answers_run_on_the_gguf(exported):
    from medadapt.evaluate.freeform.answers import LocalAnswerer
    from medadapt.llm.backend import ChatRequest
    from medadapt.llm.config import BackendConfig
    from medadapt.llm.factory import make_backend

    gguf = str(exported / "model-q8_0.gguf")
    backend = make_backend(BackendConfig(kind="llamacpp", model=gguf), gguf, None, exported)
    request = ChatRequest(messages=(("user", "Write a question about fever."),), max_tokens=4)

    async def twice():
        return await asyncio.wait_for(asyncio.gather(backend.complete(request), backend.complete(request)), 120)

    completions = asyncio.run(twice())
    assert [c.completion_tokens for c in completions] == [4, 4] and completions[0] == completions[1]
    assert completions[0].finish_reason == "length" and completions[0].prompt_tokens > 0
    answerer = LocalAnswerer.load("trained", gguf, None, max_new_tokens=4)
    timed = answerer.answer("What lowers a fever?", "en")
    assert timed.tokens == 4 and answerer.identity["chat_template"].startswith("{% for message in messages %}")


def test_without_the_converter_export_says_where_it_comes_from(gguf_run, tmp_path):
    def export(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "LLAMA_CPP_DIR": str(tmp_path / "no-llama.cpp")}
        return subprocess.run([sys.executable, "-m", "medadapt.cli", "export", str(gguf_run), *args],
                              capture_output=True, text=True, env=env)

    done = export("--to", str(tmp_path / "export"), "--gguf", "q8_0")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "convert_hf_to_gguf.py" in done.stderr and "make install" in done.stderr
    assert (tmp_path / "export" / "config.json").is_file()  # the Hugging Face directory was still written
    bad = export("--to", str(tmp_path / "x"), "--gguf", "q3")
    assert bad.returncode == 2 and "unknown GGUF type q3" in bad.stderr and not (tmp_path / "x").exists()
