"""``medadapt export RUN --to DIR``: a merged Hugging Face model directory with a model card written from
the run's own files (manifest, recipe, data stats, training summary, evaluation results), and on request GGUF
files (``serve.gguf``) with an Ollama Modelfile (``serve.modelfile``) beside them."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from medadapt.errors import MedadaptError, RunError

LICENCES_FILE = Path(__file__).with_name("templates") / "source_licences.yaml"
UNKNOWN_LICENCE = "unknown: check before redistributing"


class ExportError(MedadaptError):
    """An export that cannot be written."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, out)
    elif value is not None:
        out[prefix] = ", ".join(map(str, value)) if isinstance(value, list) else value


def known_licences() -> dict[str, str]:
    return yaml.safe_load(LICENCES_FILE.read_text(encoding="utf-8")) or {}


def _pct(model: dict[str, Any] | None) -> str:
    if not model or model.get("acc") is None:
        return "–"
    text = f"{100 * model['acc']:.1f} %"
    return text + (f" ± {100 * model['stderr']:.1f}" if model.get("stderr") is not None else "")


def card_context(run: Path, export_dir: Path, licences: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the model card says, from the run directory's files."""
    manifest = _read_json(run / "manifest.json") or {}
    recipe = yaml.safe_load((run / "recipe.yaml").read_text(encoding="utf-8")) or {}
    stats = _read_json(run / "data" / "stats.json") or {}
    summary = _read_json(run / "train" / "summary.json") or {}
    table = {**known_licences(), **(licences or {})}

    sources = [{"name": name, "count": count, "licence": table.get(name, UNKNOWN_LICENCE)}
               for name, count in sorted((stats.get("by_source") or {}).items(), key=lambda kv: -kv[1])]
    data_totals = {k: stats[k] for k in ("train", "dev", "stage1_text", "rejected") if isinstance(stats.get(k), int)}

    train = recipe.get("train") or {}
    stages = []
    for name, section in train.items():
        if isinstance(section, dict):
            settings: dict[str, Any] = {}
            _flatten("", section, settings)
            stages.append({"name": name, "settings": settings})
    loose = {k: v for k, v in train.items() if not isinstance(v, dict) and v is not None}
    if loose:
        stages.insert(0, {"name": "train", "settings": loose})
    method = ", ".join(sorted({str(s["settings"].get("method", "lora")) for s in stages if s["name"] != "train"})) or "–"

    recipe_marks = {b.get("name"): b.get("pass_mark") for b in (recipe.get("evaluate") or {}).get("benchmarks") or []
                    if isinstance(b, dict)}
    evaluations = []
    for results_file in sorted((run / "evaluate").glob("*/results.json")):
        results = _read_json(results_file) or {}
        models = results.get("models") or {}
        name = results.get("benchmark", results_file.parent.name)
        pass_mark = results.get("pass_mark", recipe_marks.get(name))
        evaluations.append({
            "name": name, "n": results.get("n", "–"),
            "base": _pct(models.get("base")), "trained": _pct(models.get("trained")),
            "pass_mark": f"{100 * pass_mark:.0f} %" if isinstance(pass_mark, (int, float)) else "–",
        })

    base_ref = recipe.get("model", "?")
    base = {"reference": base_ref, "description": "", "licence": ""}
    try:
        from medadapt.models.catalog import aliases

        alias = aliases().get(base_ref)
        if alias:
            base.update(description=alias.description, licence=alias.licence)
    except Exception:  # noqa: BLE001 - the card still says what it knows
        pass
    total = summary.get("total_parameters")
    languages = recipe.get("languages") or []
    front = {
        "language": languages, "license": "other", "library_name": "transformers", "pipeline_tag": "text-generation",
        "base_model": base_ref, "tags": ["medical", "medadapt", *(["lora"] if "lora" in method else [])],
    }
    return {
        "front_matter": yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip(),
        "title": (recipe.get("report") or {}).get("title") or f"medadapt · {recipe.get('name', run.name)}",
        "run_name": recipe.get("name", run.name), "recipe_hash": manifest.get("recipe_hash", ""),
        "exported_at": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "languages": languages,
        "base": base, "parameters": f"{total / 1e6:.0f} M" if isinstance(total, (int, float)) else "",
        "method": method, "chat_template": recipe.get("chat_template") or "the base model's own",
        "sources": sources, "data_totals": data_totals, "by_lang": stats.get("by_lang") or {},
        "train_stages": stages, "train_summary": summary,
        "total_examples": stats.get("train"), "evaluations": evaluations,
        "versions": manifest.get("versions") or {}, "export_dir_name": export_dir.name,
    }


def render_card(context: dict[str, Any]) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(Path(__file__).with_name("templates"))), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("model_card.md.j2").render(**context)


def export_run(run: Path, to: Path, *, gguf: list[str] | None = None, force: bool = False,
               licences: dict[str, str] | None = None, log=print) -> dict[str, Any]:
    """Write ``to``: the merged model (safetensors, tokenizer, chat template), medadapt.json (the run's chat
    settings, for ``medadapt chat DIR``), README.md (the model card), and medadapt/ (recipe, manifest, data
    stats, training summary, evaluation results); with ``gguf`` (types: f16, q8_0, q4_k_m) also
    ``model-<type>.gguf`` and an Ollama ``Modelfile`` for the first type. A GGUF failure raises after the
    Hugging Face directory is in place."""
    run = Path(run)
    if not (run / "manifest.json").is_file() or not (run / "recipe.yaml").is_file():
        raise RunError("not a run directory (no manifest.json / recipe.yaml)", file=str(run))
    if gguf:
        from medadapt.serve.gguf import check_types

        check_types(gguf)
    if to.exists() and any(to.iterdir()):
        if not force:
            raise ExportError("the folder exists and is not empty; add --force to replace it", file=str(to))
        shutil.rmtree(to)
    partial = to.with_name(to.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)

    from medadapt.serve.chat import chat_target

    spec = chat_target(str(run))
    if spec.adapter is None:
        log(f"copying the merged model from {spec.model}")
        shutil.copytree(spec.model, partial, dirs_exist_ok=True)
    else:
        log(f"merging {spec.description}")
        save_merged(spec.model, spec.adapter, partial, spec.trust_remote_code)
    spec.info.write(partial)  # after the copy: the run's settings as they are now

    extra = partial / "medadapt"
    extra.mkdir(exist_ok=True)
    for name in ("manifest.json", "recipe.yaml", "data/stats.json", "train/summary.json"):
        if (run / name).is_file():
            shutil.copy2(run / name, extra / Path(name).name)
    for results in sorted((run / "evaluate").glob("*/results.json")):
        (extra / "evaluate" / results.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(results, extra / "evaluate" / results.parent.name / "results.json")
    context = card_context(run, to, licences)
    (partial / "README.md").write_text(render_card(context), encoding="utf-8")
    if to.exists():
        to.rmdir()
    partial.rename(to)

    outcome: dict[str, Any] = {"dir": str(to), "gguf": [], "modelfile": None}
    if gguf:
        from transformers import AutoTokenizer

        from medadapt.serve.gguf import write_ggufs
        from medadapt.serve.modelfile import write_modelfile

        outcome["gguf"] = [str(p) for p in write_ggufs(to, gguf, log)]
        from medadapt.models.loading import remote_code

        tokenizer = AutoTokenizer.from_pretrained(to, **remote_code(str(to), spec.trust_remote_code))
        family = write_modelfile(to / "Modelfile", Path(outcome["gguf"][0]).name, tokenizer, spec.settings)
        if family is None:
            log("Modelfile without TEMPLATE: the chat template is of no family medadapt knows; Ollama will use "
                "the template embedded in the GGUF")
        outcome["modelfile"] = str(to / "Modelfile")
    return outcome


def save_merged(model_ref: str, adapter: Path | None, target: Path, trust_remote_code: bool = False) -> None:
    """Base + adapter (every adapter of a stack) merged in 32-bit and saved with the adapter's tokenizer (its chat
    template), the same way the train stage writes train/merged/; ``trust_remote_code``: the run's recipe key."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from medadapt.models.loading import remote_code
    from medadapt.models.registry import resolve_model
    from medadapt.models.merge import merged_model, save_model_dir

    source = resolve_model(model_ref)
    trust = remote_code(source, trust_remote_code)
    tokenizer = AutoTokenizer.from_pretrained(str(adapter) if adapter else source, **trust)
    model = (merged_model(source, adapter, torch.float32, trust_remote_code) if adapter is not None
             else AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, **trust))
    save_model_dir(model, tokenizer, target)
