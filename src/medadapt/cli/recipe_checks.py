"""What ``medadapt recipe validate`` checks beyond the recipe's own structure and files, without loading a
model: language data (task prompts, keyword lists, MCQA prompts, safety packs) for every recipe language a
configured stage needs, each problem naming the recipe key (or option) that adds it. Each stage package says
which languages it has data for (its ``available_languages``/``keyword_languages``); this module only asks.
It lives with the command line because it asks the stages, which the shared recipe layer may not import."""

from __future__ import annotations

from pathlib import Path

from medadapt.recipe.schema import Recipe
from medadapt.resources import resolve_path


def _missing(needed: dict[str, list[str]], available: set[str]) -> list[tuple[str, str]]:
    """(language, who needs it) for each needed language with no data."""
    return [(lang, ", ".join(needers)) for lang, needers in needed.items() if lang not in available]


def _need(needed: dict[str, list[str]], lang: str, who: str) -> None:
    needed.setdefault(lang, [])
    if who not in needed[lang]:
        needed[lang].append(who)


def _generate_problems(recipe: Recipe, base_dir: Path) -> list[str]:
    from medadapt.llm.prompts import available_languages

    section = recipe.generate
    if section is None:
        return []
    folder = resolve_path(section.prompts, base_dir) if section.prompts else None
    needed: dict[str, list[str]] = {}
    for i, task in enumerate(section.tasks):
        if task.task == "translate":
            _need(needed, task.prompt_lang, f"generate.tasks.{i}.prompt_lang")
        else:
            for lang in task.languages or recipe.languages:
                _need(needed, lang, f"generate.tasks.{i} ({task.task})")
    in_set = "" if section.prompt_set == "default" else f" in prompt set {section.prompt_set!r}"
    return [f"generate.prompts: no task prompts{in_set} for language {lang!r} (needed by {who}): add {lang}.yaml "
            f"(shaped like llm/task_prompts/en.yaml) to a folder and name it in generate.prompts"
            for lang, who in _missing(needed, available_languages(folder, section.prompt_set))]


def _pipeline_problems(recipe: Recipe, base_dir: Path) -> list[str]:
    from medadapt.llm.prompts import available_languages

    problems = []
    for i, pipeline in enumerate(recipe.evaluate.pipelines if recipe.evaluate else []):
        folder = resolve_path(pipeline.prompts, base_dir) if pipeline.prompts else None
        if pipeline.prompt_lang not in available_languages(folder):
            problems.append(f"evaluate.pipelines.{i}.prompts: no translation prompts for language "
                            f"{pipeline.prompt_lang!r}: add {pipeline.prompt_lang}.yaml to a folder and name it "
                            f"in evaluate.pipelines.{i}.prompts")
    return problems


def _keyword_problems(recipe: Recipe) -> list[str]:
    from medadapt.curate.filters import keyword_languages

    problems = []
    for i, step in enumerate(recipe.curate.steps if recipe.curate else []):
        if step.step != "knowledge_density":
            continue
        have = keyword_languages() | set(step.keywords)
        problems += [f"curate.steps.{i}.keywords: no medical keyword list for language {lang!r}: name a file "
                     f"(one term a line) as curate.steps.{i}.keywords.{lang}"
                     for lang in recipe.languages if lang not in have]
    return problems


def _mcqa_problems(recipe: Recipe, base_dir: Path) -> list[str]:
    from medadapt.evaluate.mcqa.prompts import available_languages

    problems = []
    for i, bench in enumerate(recipe.evaluate.benchmarks if recipe.evaluate else []):
        have = available_languages(resolve_path(bench.prompt_file, base_dir) if bench.prompt_file else None)
        if bench.prompt is not None:
            if bench.prompt not in have:
                problems.append(f"evaluate.benchmarks.{i}.prompt: no multiple-choice prompt named {bench.prompt!r}: "
                                f"add it in a file named by evaluate.benchmarks.{i}.prompt_file")
            continue
        problems += [f"evaluate.benchmarks.{i}.prompt_file: no multiple-choice prompt for language {lang!r}: add "
                     f"a {lang} entry (shaped like evaluate/mcqa/prompts.yaml) in a file named by "
                     f"evaluate.benchmarks.{i}.prompt_file"
                     for lang in ([bench.lang] if bench.lang else recipe.languages) if lang not in have]
    return problems


def _safety_problems(recipe: Recipe) -> list[str]:
    """A trained model is chatted with: its languages need safety packs (red flags, disclaimer)."""
    from medadapt.serve.safety import available_languages

    if recipe.train is None:
        return []
    have = available_languages()
    return [f"languages: no chat safety pack for {lang!r} (serve/safety/): `medadapt chat`/`serve` take one "
            f"with --safety-dir DIR holding {lang}.yaml, or run with --no-safety" for lang in recipe.languages
            if lang not in have]


def language_problems(recipe: Recipe, base_dir: Path) -> list[str]:
    """Every recipe language a configured stage needs data for and has none, naming the key that adds it."""
    return (_keyword_problems(recipe) + _generate_problems(recipe, base_dir) + _pipeline_problems(recipe, base_dir)
            + _mcqa_problems(recipe, base_dir) + _safety_problems(recipe))
