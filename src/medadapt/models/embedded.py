"""Convert an embedded GGUF model once into a normal Hugging Face model directory.

transformers loads GGUF by de-quantising it to float32, but refuses to ``save_pretrained`` such a model
(its config carries a GGUF ``quantization_config``). So the model is rebuilt from a clean copy of its config,
the de-quantised weights are loaded into it, and that is saved. The result is cached under
``$MEDADAPT_HOME/models/<alias>-<sha>`` and written to a temporary folder renamed only when complete, so an
interrupted conversion is redone rather than half-used.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from medadapt.errors import ModelError
from medadapt.models.catalog import Alias, find_gguf, is_model_dir, medadapt_home


def _file_digest(path: Path, length: int = 12) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def convert_gguf(gguf_path: Path, target: Path) -> Path:
    """Write a Hugging Face model directory (safetensors, tokenizer, chat template) for ``gguf_path``."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one line naming the file
        raise ModelError(f"cannot load GGUF: {exc}", file=str(gguf_path)) from exc
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict.pop("_name_or_path", None)
    config_dict.pop("_model_name_or_path", None)  # the GGUF's general.name, not a path
    config = AutoConfig.for_model(**config_dict)
    model = AutoModelForCausalLM.from_config(config)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    tied = set(getattr(model, "_tied_weights_keys", None) or [])
    if unexpected or set(missing) - tied:
        raise ModelError(f"weights do not match the config (missing {missing}, unexpected {unexpected})", file=str(gguf_path))
    model.generation_config = GenerationConfig.from_model_config(config)

    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / "SOURCE.txt").write_text(f"converted by medadapt from {gguf_path.name}\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def ensure_converted(alias: Alias) -> Path:
    """Cached Hugging Face directory for an embedded alias, converting it on first use."""
    gguf_path = find_gguf(alias)
    target = medadapt_home() / "models" / f"{alias.name}-{_file_digest(gguf_path)}"
    if is_model_dir(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    from rich.console import Console

    with Console(stderr=True).status(f"Converting the embedded model {alias.name} once into {target} (a minute or two)…"):
        return convert_gguf(gguf_path, target)
