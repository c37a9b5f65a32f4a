from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_generator(tiny_model_dir):
    from medadapt.models.loading import load_for_inference
    from medadapt.serve.generation import Generator

    model, tokenizer = load_for_inference(str(tiny_model_dir))
    return Generator(model, tokenizer, "tiny")
