"""An Ollama ``Modelfile`` beside an exported GGUF, so that ``ollama create NAME -f Modelfile`` serves the model
with the conversation format it was trained on, the recipe's system prompt and sampling, and its stop tokens.

Ollama does not run Jinja chat templates: its TEMPLATE is Go text/template. The shipped Go templates
(``templates/ollama_templates.yaml``) each reproduce one template family medadapt trains with; the family is
recognised from the tokenizer's own rendering of a probe conversation, so a template named in the recipe and
a model's own template (SmolLM2's ChatML) are both covered. A template's built-in system prompt (SmolLM2 adds
one when a conversation has none) becomes SYSTEM when the recipe sets none, because Ollama adds SYSTEM exactly
where such a template would put its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medadapt.recipe.schema import ChatSection

TEMPLATES_FILE = Path(__file__).with_name("templates") / "ollama_templates.yaml"
PROBE_USER = "medadapt-probe-question"


@dataclass(frozen=True)
class OllamaTemplate:
    family: str
    template: str
    stop: list[str]
    default_system: str | None  # the system prompt the chat template adds to a conversation without one


def shipped_templates() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(TEMPLATES_FILE.read_text(encoding="utf-8"))


def _render(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def _default_system(tokenizer: Any) -> str | None:
    """The system prompt ``tokenizer``'s template inserts into a conversation that has none: what stands
    where a given system prompt would, in its rendering of a lone user turn."""
    alone = _render(tokenizer, [{"role": "user", "content": PROBE_USER}])
    head, _, tail = _render(tokenizer, [{"role": "system", "content": "\x00"},
                                        {"role": "user", "content": PROBE_USER}]).partition("\x00")
    if alone.startswith(head) and alone.endswith(tail) and len(alone) > len(head) + len(tail):
        return alone[len(head):len(alone) - len(tail)]
    return None


def ollama_template(tokenizer: Any) -> OllamaTemplate | None:
    """The shipped Go template for the tokenizer's chat template family, or None when no family matches (a BOS
    the template writes first is no turn marker, even where it reads like one)."""
    rendered = _render(tokenizer, [{"role": "user", "content": PROBE_USER}]).removeprefix(tokenizer.bos_token or "")
    for family, spec in shipped_templates().items():
        if spec["marker"] in rendered:
            return OllamaTemplate(family, spec["template"], list(spec["stop"]),
                                  _default_system(tokenizer))
    return None


def _quoted(text: str) -> str:
    """A Modelfile triple-quoted value (Ollama reads it verbatim up to the closing quotes)."""
    if '"""' in text:
        raise ValueError('a Modelfile value cannot contain """')
    return f'"""{text}"""'


def modelfile_text(gguf_name: str, template: OllamaTemplate | None, system_prompt: str | None,
                   chat: ChatSection) -> str:
    """FROM the GGUF beside it; TEMPLATE, SYSTEM and stop tokens when the family is known; the recipe's
    sampling. Without a known family Ollama falls back to the chat template embedded in the GGUF."""
    lines = ["# written by medadapt export; run: ollama create NAME -f Modelfile", f"FROM ./{gguf_name}", ""]
    system = system_prompt or (template.default_system if template else None)
    if template is not None:
        lines.append(f"TEMPLATE {_quoted(template.template)}")
    if system:
        lines.append(f"SYSTEM {_quoted(system)}")
    if template is not None:
        lines += [f'PARAMETER stop "{stop}"' for stop in template.stop]
    lines += [f"PARAMETER temperature {chat.temperature}", f"PARAMETER top_p {chat.top_p}",
              f"PARAMETER repeat_penalty {chat.repetition_penalty}", f"PARAMETER num_predict {chat.max_new_tokens}"]
    return "\n".join(lines) + "\n"


def write_modelfile(path: Path, gguf_name: str, tokenizer: Any, chat: ChatSection) -> OllamaTemplate | None:
    """``path`` (the Modelfile) for ``gguf_name``; returns the template family used (None: GGUF's own)."""
    template = ollama_template(tokenizer)
    path.write_text(modelfile_text(gguf_name, template, chat.system_prompt, chat), encoding="utf-8")
    return template
