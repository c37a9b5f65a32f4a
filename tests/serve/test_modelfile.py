"""The Ollama Modelfile's TEMPLATE, rendered by Go's own text/template (py-go-template), gives the very text
the tokenizer's Jinja chat template renders, for SmolLM2's real template, a ChatML one and medadapt's Gemma one,
with Ollama's rule for SYSTEM (added as the first message when a conversation has none) against medadapt chat's
for the recipe's system prompt (the same rule)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny import build_tokenizer

from medadapt.models.templates import load_chat_template
from medadapt.recipe.schema import ChatSection
from medadapt.serve.modelfile import write_modelfile

go_template = pytest.importorskip("go_template", reason="py-go-template (the test extra) renders Go templates")

CONVERSATIONS = [
    [{"role": "user", "content": "I have had a fever for two days. What should I do?"}],
    [{"role": "system", "content": "Answer briefly.\nBe kind."}, {"role": "user", "content": "What is \"BP\"?"}],
    [{"role": "user", "content": "سرم درد می‌کند."}, {"role": "assistant", "content": "از کی؟"},
     {"role": "user", "content": "از دیروز <b>صبح</b>."}],
    [{"role": "system", "content": "You are a nurse."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello! How can I help?"}, {"role": "user", "content": "My child has a rash & itch."}],
]


def smollm2_template() -> str:
    import llama_cpp

    from medadapt.models.catalog import aliases, find_gguf

    gguf = find_gguf(aliases()["smollm2-135m"])
    return llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False).metadata["tokenizer.chat_template"]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return build_tokenizer(tmp_path_factory.mktemp("tok"))


def parse_modelfile(path: Path) -> dict[str, list[str]]:
    """Each instruction's values (a triple-quoted value read verbatim, as Ollama's parser does)."""
    text, out = path.read_text(encoding="utf-8"), {}
    while text:
        line, _, rest = text.partition("\n")
        word, _, value = line.partition(" ")
        if value.startswith('"""'):
            value, _, rest = (value[3:] + "\n" + rest).partition('"""')
            rest = rest.partition("\n")[2]
        if word and not word.startswith("#"):
            out.setdefault(word, []).append(value)
        text = rest
    return out


def with_system(messages: list[dict[str, str]], system: str | None) -> list[dict[str, str]]:
    """The system prompt first when the conversation has none: Ollama's rule for SYSTEM, and medadapt chat's and
    serve's for the recipe's system prompt."""
    return [{"role": "system", "content": system}, *messages] if system and messages[0]["role"] != "system" \
        else messages


def ollama_render(template: str, system: str | None, messages: list[dict[str, str]], folder: Path) -> str:
    """What Ollama sends the model: the conversation with SYSTEM, rendered by TEMPLATE."""
    messages = with_system(messages, system)
    source = folder / "template.tmpl"
    source.write_text(template, encoding="utf-8")
    values = {"Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages]}
    return go_template.render(source, values).decode("utf-8")


def check(tokenizer, folder: Path, chat: ChatSection, family: str, bos: str = "") -> dict[str, list[str]]:
    path = folder / "Modelfile"
    template = write_modelfile(path, "model-q8_0.gguf", tokenizer, chat)
    assert template is not None and template.family == family
    spec = parse_modelfile(path)
    assert spec["FROM"] == ["./model-q8_0.gguf"]
    system = spec.get("SYSTEM", [None])[0]
    for messages in CONVERSATIONS:
        expected = tokenizer.apply_chat_template(with_system(messages, chat.system_prompt), tokenize=False,
                                                 add_generation_prompt=True)  # as medadapt chat renders it
        assert bos + ollama_render(spec["TEMPLATE"][0], system, messages, folder) == expected
    return spec


def test_smollm2_template_with_its_own_default_system_prompt(tokenizer, tmp_path):
    tokenizer.chat_template = smollm2_template()
    spec = check(tokenizer, tmp_path, ChatSection(), "chatml")
    assert spec["SYSTEM"] == ["You are a helpful AI assistant named SmolLM, trained by Hugging Face"]
    assert spec["PARAMETER"][:2] == ['stop "<|im_start|>"', 'stop "<|im_end|>"']


def test_chatml_with_the_recipes_system_prompt(tokenizer, tmp_path):
    tokenizer.chat_template = load_chat_template("chatml").template
    chat = ChatSection(system_prompt="You are a careful medical assistant.", temperature=0.2, max_new_tokens=99)
    spec = check(tokenizer, tmp_path, chat, "chatml")
    assert spec["SYSTEM"] == ["You are a careful medical assistant."]
    assert "temperature 0.2" in spec["PARAMETER"] and "num_predict 99" in spec["PARAMETER"]


def test_gemma_template_folds_the_system_prompt_into_the_first_turn(tokenizer, tmp_path):
    tokenizer.chat_template = load_chat_template("gemma").template
    spec = check(tokenizer, tmp_path, ChatSection(system_prompt="Reply in Persian."), "gemma",
                 bos=tokenizer.bos_token)  # Ollama adds BOS from the GGUF, the Jinja template writes it
    assert "SYSTEM" in spec and 'stop "<end_of_turn>"' in spec["PARAMETER"]


def test_an_unknown_template_family_leaves_the_template_to_ollama(tokenizer, tmp_path):
    tokenizer.chat_template = "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}### assistant:"
    assert write_modelfile(tmp_path / "Modelfile", "m.gguf", tokenizer, ChatSection()) is None
    spec = parse_modelfile(tmp_path / "Modelfile")
    assert "TEMPLATE" not in spec and spec["FROM"] == ["./m.gguf"]
