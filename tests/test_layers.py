"""The layout is the architecture: no import cycles; shared layers never import a stage; a stage never imports
another stage (imports inside functions included). Stages meet only in the run directory's files."""

from __future__ import annotations

import ast
from pathlib import Path

import medadapt

ROOT = Path(medadapt.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = ["medadapt", *path.relative_to(ROOT).with_suffix("").parts]
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start → … → start, by depth-first search, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph[node]):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_cycles():
    graph = _graph(_modules())
    cycles = [cycle for name in sorted(graph) if (cycle := _cycle_from(name, graph))]
    assert not cycles, " | ".join(" → ".join(c) for c in cycles[:5])


STAGES = ("crawl", "curate", "generate", "format", "train", "evaluate", "report", "serve")
SHARED = ("records", "text", "llm", "models", "runs", "recipe", "resources", "strict", "errors")
#: the recipe schema assembles each stage's own config section (config lives with its stage, as TRL's does);
#: those modules import only shared layers, which the last test checks
CONFIG_MODULES = {"crawl": "medadapt.crawl.section", "curate": "medadapt.curate.config",
                  "format": "medadapt.format.config", "generate": "medadapt.generate.config",
                  "train": "medadapt.train.config", "evaluate": "medadapt.evaluate.config"}


def _package(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _config_closure(graph: dict[str, set[str]]) -> set[str]:
    """The stage config modules and the stage modules they import (all of which must import no other stage)."""
    todo, seen = list(CONFIG_MODULES.values()), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [t for t in graph[name] if _package(t) == _package(name)]
    return seen


def test_shared_layers_import_no_stage():
    graph = _graph(_modules())
    allowed = _config_closure(graph)
    wrong = [f"{name} → {target}" for name in graph if _package(name) in SHARED
             for target in graph[name] if _package(target) in STAGES and target not in allowed]
    assert not wrong, wrong


def test_a_stage_never_imports_another_stage():
    graph = _graph(_modules())
    wrong = [f"{name} → {target}" for name in graph if _package(name) in STAGES
             for target in graph[name] if _package(target) in STAGES and _package(target) != _package(name)]
    assert not wrong, wrong


def test_stage_configs_import_only_shared_layers():
    graph = _graph(_modules())
    wrong = [f"{name} → {target}" for name in _config_closure(graph) for target in graph[name]
             if _package(target) not in SHARED and _package(target) != _package(name)]
    assert not wrong, wrong
