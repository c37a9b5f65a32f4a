"""The generate stage on the in-process backends. On transformers it runs offline (a second run is served
entirely from the cache). On vLLM, wired against a stand-in ``vllm`` module (vLLM itself needs a CUDA GPU):
the model path, the sampling parameters, one batched ``LLM.chat`` call for many requests, token usage and
finish reasons from vLLM's outputs, and the request cache (a second run asks nothing)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
import yaml
from generate_helpers import qa_rows, read_jsonl, run_generate, write_records

from medadapt.llm.fake_server import default_responder


def test_stage_on_the_local_backend_then_from_cache(tmp_path, tiny_model_dir):
    data = write_records(tmp_path / "qa.jsonl", qa_rows(5))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "gen", "languages": ["en"], "model": str(tiny_model_dir),
        "generate": {"backend": {"kind": "local", "batch_size": 4},
                     "tasks": [{"task": "expand", "input": str(data), "limit": 4, "max_new_tokens": 8}]},
    }), encoding="utf-8")
    runs = tmp_path / "runs"
    assert run_generate(recipe, runs) == 0
    out = runs / "gen" / "generate"
    stats = json.loads((out / "stats.json").read_text())
    assert stats["requests"]["requests_sent"] == 4 and stats["requests"]["cost_usd"] == 0
    outcomes = read_jsonl(out / "expand.jsonl") + read_jsonl(out / "rejected.jsonl")
    assert len(outcomes) == 4  # a random tiny model's text is kept or quarantined, never lost
    assert run_generate(recipe, runs, "--force") == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["requests"]["requests_sent"] == 0 and stats["requests"]["requests_cached"] == 4


class FakeTokenizer:
    chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}"
    eos_token = "</s>"
    pad_token = None

    def get_vocab(self) -> dict[str, int]:
        return {"</s>": 0, "<|im_end|>": 1}


class FakeLLM:
    """Records what medadapt asks of vLLM; answers like the fake OpenAI server, cut off when a prompt says so."""

    def __init__(self, model: str, trust_remote_code: bool = False):
        self.model = model
        self.trust_remote_code = trust_remote_code  # vLLM's own keyword: the recipe's trust_remote_code
        self.chats: list[dict] = []
        self.tokenizer = FakeTokenizer()

    def get_tokenizer(self) -> FakeTokenizer:
        return self.tokenizer

    def chat(self, messages, sampling_params=None, chat_template=None, use_tqdm=True):
        self.chats.append({"messages": messages, "sampling": sampling_params.kwargs, "chat_template": chat_template})
        return [self._output(conversation) for conversation in messages]

    @staticmethod
    def _output(conversation: list[dict[str, str]]) -> types.SimpleNamespace:
        prompt = " ".join(m["content"] for m in conversation)
        if "number 3?" in prompt:
            text, finish = "In detail: rest and", "length"
        else:
            text, finish = default_responder({"messages": conversation}), "stop"
        sample = types.SimpleNamespace(text=" " + text, token_ids=list(range(len(text.split()))), finish_reason=finish)
        return types.SimpleNamespace(prompt_token_ids=list(range(len(prompt.split()))), outputs=[sample])


@pytest.fixture
def fake_vllm(monkeypatch):
    """A stand-in ``vllm`` module; ``fake_vllm.llms`` holds every LLM made."""
    module = types.ModuleType("vllm")
    module.llms = []

    def make_llm(model: str, trust_remote_code: bool = False) -> FakeLLM:
        module.llms.append(FakeLLM(model, trust_remote_code))
        return module.llms[-1]

    module.LLM = make_llm
    module.SamplingParams = lambda **kwargs: types.SimpleNamespace(kwargs=kwargs)
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def model_dir(folder: Path) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def write_vllm_recipe(folder: Path, data: Path, model: Path, **extra) -> Path:
    recipe = {"name": "gen", "languages": ["en"], "model": "smollm2-135m", **extra,
              "generate": {"backend": {"kind": "vllm", "model": str(model), "batch_size": 16},
                           "max_new_tokens": 48, "temperature": 0.3,
                           "tasks": [{"task": "expand", "input": str(data)}]}}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


def test_requests_become_one_batched_chat_call_with_usage_then_come_from_the_cache(tmp_path, fake_vllm):
    model = model_dir(tmp_path / "my-model")
    recipe = write_vllm_recipe(tmp_path, write_records(tmp_path / "qa.jsonl", qa_rows(6)), model,
                               chat_template="chatml")
    runs = tmp_path / "runs"
    assert run_generate(recipe, runs) == 0

    [llm] = fake_vllm.llms
    assert llm.model == str(model.resolve()) and llm.trust_remote_code is False
    [chat] = llm.chats  # six requests that arrived together: one call
    assert len(chat["messages"]) == 6 and all(c[-1]["role"] == "user" for c in chat["messages"])
    assert chat["sampling"] == {"max_tokens": 48, "temperature": 0.3, "stop": ["<|im_end|>"]}
    assert "<|im_start|>" in chat["chat_template"]  # the recipe's template, not the model's

    out = runs / "gen" / "generate"
    stats = json.loads((out / "stats.json").read_text())
    prompts = [" ".join(m["content"] for m in c) for c in chat["messages"]]
    outputs = [FakeLLM._output(c) for c in chat["messages"]]
    assert stats["backend"] == "vllm" and stats["requests"]["requests_sent"] == 6
    assert stats["requests"]["prompt_tokens"] == sum(len(p.split()) for p in prompts)
    assert stats["requests"]["completion_tokens"] == sum(len(o.outputs[0].token_ids) for o in outputs)
    assert stats["requests"]["cost_usd"] == 0  # own hardware
    assert [r["id"] for r in read_jsonl(out / "expand.jsonl")] == [f"q{i}-expanded" for i in range(6) if i != 3]
    [cut] = read_jsonl(out / "rejected.jsonl")  # finish_reason length: a cut-off answer, quarantined
    assert cut["id"] == "q3" and "cut off by the token limit" in cut["reason"]

    assert run_generate(recipe, runs, "--force") == 0
    assert len(fake_vllm.llms) == 2 and fake_vllm.llms[1].chats == []  # a second run sends nothing
    stats = json.loads((out / "stats.json").read_text())
    assert stats["requests"]["requests_sent"] == 0 and stats["requests"]["requests_cached"] == 6


def test_batches_are_cut_at_batch_size(tmp_path, fake_vllm):
    model = model_dir(tmp_path / "my-model")
    recipe = write_vllm_recipe(tmp_path, write_records(tmp_path / "qa.jsonl", qa_rows(20)), model)
    assert run_generate(recipe, tmp_path / "runs") == 0
    [llm] = fake_vllm.llms
    assert [len(c["messages"]) for c in llm.chats] == [16, 4]
    assert llm.chats[0]["sampling"] == {"max_tokens": 48, "temperature": 0.3, "stop": None}
    assert llm.chats[0]["chat_template"] == FakeTokenizer.chat_template  # no override: the model's own
