"""The in-process vLLM backend without vLLM: a one-line error naming what to install, and a config that needs
no server. (The generate stage on vLLM, wired against a stand-in module, is tests/generate/test_in_process.py.)"""

from __future__ import annotations

import sys

import pytest

from medadapt.llm.config import BackendConfig
from medadapt.llm.errors import LLMError
from medadapt.llm.vllm_backend import VLLMBackend


def test_without_vllm_installed_the_error_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now fails as if it were not installed
    with pytest.raises(LLMError) as caught:
        VLLMBackend("smollm2-135m", batch_size=8)
    assert caught.value.one_line() == ("generate.backend.kind: vLLM is not installed: pip install vllm (needs a "
                                       "CUDA GPU); or use kind: local or kind: openai")


def test_vllm_needs_no_base_url_but_openai_does():
    assert BackendConfig(kind="vllm").in_process
    with pytest.raises(ValueError, match="an openai backend needs base_url and model"):
        BackendConfig(kind="openai", model="m")
