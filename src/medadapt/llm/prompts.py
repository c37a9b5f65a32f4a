"""A prompt as data: a system text and a Jinja user text, read from a YAML entry and hashed, so that every
output can name the template it came from. The generate tasks, the judge and the translator read theirs
through :func:`read_prompt`.

Prompt sets per language (:func:`load_prompts`) are ``<lang>.yaml`` files: the recipe's ``prompts`` folder
first, then the shipped ``llm/task_prompts/``. They live in the inference layer because both the generate
tasks and evaluate's translate pipeline use them.

A shipped *prompt set* other than ``default`` (``llm/task_prompts/<set>/<lang>.yaml``, e.g. ``mmed-ift``: one
paper's method) holds only the steps it changes; the others come from the default file of the same language,
so a paper set never drifts from the default contract it does not touch. A recipe folder's file still
replaces the whole set for its language."""

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


DEFAULT_SET = "default"


def _shipped_dir(prompt_set: str = DEFAULT_SET) -> Path:
    folder = Path(str(resources.files("medadapt.llm").joinpath("task_prompts")))
    return folder if prompt_set == DEFAULT_SET else folder / prompt_set


def available_languages(override_dir: Path | None = None, prompt_set: str = DEFAULT_SET) -> set[str]:
    """Languages with task prompts: the shipped ones (of ``prompt_set``) and any ``<lang>.yaml`` in
    ``override_dir`` (what ``recipe validate`` checks a recipe's languages against, without loading a model)."""
    dirs = [_shipped_dir(prompt_set), *([override_dir] if override_dir is not None and override_dir.is_dir() else [])]
    return {path.stem for folder in dirs for path in folder.glob("*.yaml")}


def prompt_file(lang: str, override_dir: Path | None) -> Path:
    if override_dir is not None and (override_dir / f"{lang}.yaml").is_file():
        return override_dir / f"{lang}.yaml"
    return _shipped_dir() / f"{lang}.yaml"


def _read_set(path: Path) -> tuple[dict[str, str], dict[str, Prompt]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    prompts = {task: read_prompt(raw[task], path, task) for task in TASK_PROMPTS if raw.get(task) is not None}
    return dict(raw.get("languages") or {}), prompts


def load_prompts(lang: str, override_dir: Path | None = None, prompt_set: str = DEFAULT_SET) -> PromptSet:
    path = prompt_file(lang, override_dir)
    if not path.is_file():
        raise LLMError(f"no prompts for language {lang!r}: add {lang}.yaml to the folder the recipe's "
                       f"generate.prompts (or evaluate.pipelines[].prompts) names",
                       file=str(override_dir) if override_dir is not None else None)
    languages, prompts = _read_set(path)
    if prompt_set == DEFAULT_SET or path.parent == override_dir:
        return PromptSet(lang, path, languages, prompts)
    layer = _shipped_dir(prompt_set) / f"{lang}.yaml"
    if not layer.is_file():
        have = ", ".join(sorted(available_languages(prompt_set=prompt_set))) or "none"
        raise LLMError(f"prompt set {prompt_set!r} has no prompts for language {lang!r} (it has {have}): use "
                       f"generate.prompt_set: default for it, or add {lang}.yaml to generate.prompts",
                       file=str(layer.parent))
    own_languages, own = _read_set(layer)
    return PromptSet(lang, layer, languages | own_languages, prompts | own)
