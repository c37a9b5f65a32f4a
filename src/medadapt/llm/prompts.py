"""A prompt as data: a system text and a Jinja user text, read from a YAML entry and hashed, so that every
output can name the template it came from. The generate tasks, the judge and the translator read theirs
through :func:`read_prompt`.

Prompt sets per language (:func:`load_prompts`) are ``<lang>.yaml`` files: the recipe's ``prompts`` folder
first, then the shipped ``llm/task_prompts/``. They live in the inference layer because both the generate
tasks and evaluate's translate pipeline use them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import yaml

from medadapt.llm.errors import LLMError

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    hash: str

    def messages(self, **values: object) -> tuple[tuple[str, str], ...]:
        return (("system", self.system), ("user", _ENV.from_string(self.user).render(**values).strip()))


def read_prompt(entry: object, path: Path, name: str) -> Prompt:
    """The prompt of one ``name: {system, user}`` entry of the YAML file ``path``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("user"), str):
        raise LLMError("needs `user` (and optionally `system`) text", file=str(path), field=name)
    system = str(entry.get("system", "")).strip()
    digest = hashlib.sha256(f"{system}\n\x00{entry['user']}".encode()).hexdigest()[:16]
    return Prompt(system, entry["user"], digest)


TASK_PROMPTS = ("translate", "score", "refine", "expand", "condense", "qa_generate", "judge", "conversation")


@dataclass(frozen=True)
class PromptSet:
    lang: str
    file: Path
    languages: dict[str, str]
    prompts: dict[str, Prompt]

    def language_name(self, code: str) -> str:
        return self.languages.get(code, code)

    def __getitem__(self, task: str) -> Prompt:
        if task not in self.prompts:
            raise LLMError(f"no `{task}` prompt", file=str(self.file))
        return self.prompts[task]


def _shipped_dir() -> Path:
    return Path(str(resources.files("medadapt.llm").joinpath("task_prompts")))


def available_languages(override_dir: Path | None = None) -> set[str]:
    """Languages with task prompts: the shipped ones and any ``<lang>.yaml`` in ``override_dir`` (what
    ``recipe validate`` checks a recipe's languages against, without loading a model)."""
    dirs = [_shipped_dir(), *([override_dir] if override_dir is not None and override_dir.is_dir() else [])]
    return {path.stem for folder in dirs for path in folder.glob("*.yaml")}


def prompt_file(lang: str, override_dir: Path | None) -> Path:
    if override_dir is not None and (override_dir / f"{lang}.yaml").is_file():
        return override_dir / f"{lang}.yaml"
    return _shipped_dir() / f"{lang}.yaml"


def load_prompts(lang: str, override_dir: Path | None = None) -> PromptSet:
    path = prompt_file(lang, override_dir)
    if not path.is_file():
        raise LLMError(f"no prompts for language {lang!r}: add {lang}.yaml to the folder the recipe's "
                       f"generate.prompts (or evaluate.pipelines[].prompts) names",
                       file=str(override_dir) if override_dir is not None else None)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    prompts = {}
    for task in TASK_PROMPTS:
        entry = raw.get(task)
        if entry is not None:
            prompts[task] = read_prompt(entry, path, task)
    return PromptSet(lang, path, dict(raw.get("languages") or {}), prompts)
