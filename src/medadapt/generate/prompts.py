"""Prompt templates per task and language, read from ``<lang>.yaml`` files (the recipe's ``prompts`` folder
first, then the shipped ``generate/prompts/``). Each output records the hash of the template it came from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import yaml

from medadapt.generate.errors import GenerateError

TASK_PROMPTS = ("translate", "score", "refine", "expand", "condense", "qa_generate", "judge", "conversation")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    hash: str

    def messages(self, **values: object) -> tuple[tuple[str, str], ...]:
        return (("system", self.system), ("user", _ENV.from_string(self.user).render(**values).strip()))


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
            raise GenerateError(f"no `{task}` prompt", file=str(self.file))
        return self.prompts[task]


def prompt_file(lang: str, override_dir: Path | None) -> Path:
    if override_dir is not None and (override_dir / f"{lang}.yaml").is_file():
        return override_dir / f"{lang}.yaml"
    return Path(str(resources.files("medadapt.generate").joinpath("prompts", f"{lang}.yaml")))


def load_prompts(lang: str, override_dir: Path | None = None) -> PromptSet:
    path = prompt_file(lang, override_dir)
    if not path.is_file():
        raise GenerateError(f"no prompts for language {lang!r}: add {lang}.yaml to the recipe's prompts folder",
                            file=str(path.parent))
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    prompts = {}
    for task in TASK_PROMPTS:
        entry = raw.get(task)
        if entry is None:
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("user"), str):
            raise GenerateError("needs `user` (and optionally `system`) text", file=str(path), field=task)
        system = str(entry.get("system", "")).strip()
        digest = hashlib.sha256(f"{system}\n\x00{entry['user']}".encode()).hexdigest()[:16]
        prompts[task] = Prompt(system, entry["user"], digest)
    return PromptSet(lang, path, dict(raw.get("languages") or {}), prompts)
