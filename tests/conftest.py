from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny import build_tiny_llama  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="session")
def tiny_inference(tiny_model_dir):
    """(model, tokenizer) of the tiny model, loaded the way evaluation and chat load models."""
    from medadapt.models.loading import load_for_inference

    return load_for_inference(str(tiny_model_dir))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Keep each test's model cache out of the user's ~/.cache/medadapt."""
    monkeypatch.setenv("MEDADAPT_HOME", str(tmp_path / "medadapt-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
