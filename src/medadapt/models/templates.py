"""Chat templates as data (``resources/chat_templates/*.yaml``), for models that have none or a wrong one.

Base models (Gemma-3-270M's GGUF, for one) ship no chat template. A recipe names one; training renders
with it and saves it with the adapter's tokenizer, so chat and evaluation render conversations exactly as
training did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medadapt.errors import ModelError
from medadapt.resources import resource_path

TEMPLATES_DIR = "chat_templates"


@dataclass(frozen=True)
class ChatTemplate:
    name: str
    template: str
    eos_token: str | None = None


def shipped_templates() -> list[str]:
    return sorted(p.stem for p in resource_path(TEMPLATES_DIR).glob("*.yaml"))


def template_file(name_or_path: str, base_dir: Path | None = None) -> Path:
    """A shipped template's file, or a user's YAML file (path relative to ``base_dir``)."""
    if name_or_path in shipped_templates():
        return resource_path(TEMPLATES_DIR) / f"{name_or_path}.yaml"
    path = Path(name_or_path).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def load_chat_template(name_or_path: str | None, base_dir: Path | None = None) -> ChatTemplate | None:
    """The named template; None when none is named (the model's own template is used)."""
    if not name_or_path:
        return None
    path = template_file(name_or_path, base_dir)
    if not path.is_file():
        raise ModelError(f"unknown chat template (shipped: {', '.join(shipped_templates())}) and no such file",
                         field=f"chat_template {name_or_path}")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not isinstance(spec.get("template"), str):
        raise ModelError("expected a mapping with a `template` string", file=str(path), field="template")
    return ChatTemplate(name=path.stem, template=spec["template"], eos_token=spec.get("eos_token"))


def prepare_chat_tokenizer(tokenizer: Any, override: ChatTemplate | None, model: str) -> Any:
    """Install ``override`` (template and end-of-turn token) or check the tokenizer has a template."""
    if override is not None:
        tokenizer.chat_template = override.template
        if override.eos_token:
            if override.eos_token not in tokenizer.get_vocab():
                raise ModelError(f"the tokenizer has no token {override.eos_token!r}", field=f"chat_template {override.name}")
            tokenizer.eos_token = override.eos_token
    elif not tokenizer.chat_template:
        raise ModelError(
            f"the model has no chat template; name one in the recipe (chat_template: {' | '.join(shipped_templates())})",
            field=f"model {model}",
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
