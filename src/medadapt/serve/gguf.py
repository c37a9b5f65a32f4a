"""GGUF files of an exported model directory, from the project's own dependencies: llama.cpp's
``convert_hf_to_gguf.py`` as shipped inside llama-cpp-python's source distribution (``make install`` keeps it,
with the ``conversion`` package and ``gguf-py`` it imports, in ``.venv/share/llama.cpp``), then
``llama_model_quantize`` through llama-cpp-python's binding. No llama.cpp checkout, no extra binary.

The converter writes one 32-bit file (the merged weights are 32-bit, so nothing is rounded twice); each
requested type is quantised from it (f16 too), and it is deleted. The chat template the tokenizer was saved
with (the one training rendered with) goes into every file's ``tokenizer.chat_template``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from medadapt.errors import MedadaptError

#: export's --gguf types -> llama.cpp's file types (``enum llama_ftype``)
GGUF_TYPES = {"f16": "LLAMA_FTYPE_MOSTLY_F16", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}
CONVERTER = "convert_hf_to_gguf.py"
#: where ``make install`` unpacks the converter from the pinned llama-cpp-python sdist
BUNDLED_DIR = Path(sys.prefix) / "share" / "llama.cpp"
LLAMA_CPP_PIN = "llama-cpp-python==0.3.36"
SETUP_HELP = (f"`make install` unpacks it into {BUNDLED_DIR} from the {LLAMA_CPP_PIN} source distribution; by hand: "
              f"pip download --no-binary :all: --no-deps {LLAMA_CPP_PIN}, then untar its vendor/llama.cpp/"
              f"{{{CONVERTER},conversion,gguf-py}} into {BUNDLED_DIR} (or set LLAMA_CPP_DIR to a llama.cpp checkout)")


class GGUFError(MedadaptError):
    """A GGUF file that cannot be written."""


def gguf_name(kind: str) -> str:
    return f"model-{kind}.gguf"


def find_converter() -> Path:
    """``convert_hf_to_gguf.py``: $LLAMA_CPP_DIR's when set, else the one ``make install`` unpacked."""
    folder = Path(os.environ["LLAMA_CPP_DIR"]) if os.environ.get("LLAMA_CPP_DIR") else BUNDLED_DIR
    script = folder / CONVERTER
    if not script.is_file():
        raise GGUFError(f"llama.cpp's converter is not installed; {SETUP_HELP}", file=str(script))
    return script


def convert_f32(model_dir: Path, target: Path) -> Path:
    """The Hugging Face directory as one 32-bit GGUF (the converter in a subprocess: it imports its own gguf-py,
    which is newer than the released ``gguf`` package, and torch)."""
    script = find_converter()
    done = subprocess.run([sys.executable, str(script), str(model_dir), "--outfile", str(target), "--outtype", "f32"],
                          capture_output=True, text=True)
    if done.returncode != 0 or not target.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise GGUFError(f"{CONVERTER} failed: {last}", file=str(model_dir))
    return target


def quantize(source: Path, target: Path, kind: str) -> Path:
    """``source`` (a GGUF) written as ``kind`` through ``llama_model_quantize``; tensors whose rows do not fit a
    k-quant block fall back to a type that fits, as llama.cpp's own quantize tool does."""
    from medadapt.llm.llamacpp import cpu_threads, import_llama_cpp

    llama_cpp = import_llama_cpp()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, GGUF_TYPES[kind])
    params.nthread = cpu_threads()
    partial = target.with_name(target.name + ".partial")
    status = llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), params)
    if status != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        raise GGUFError(f"llama_model_quantize to {kind} failed (status {status})", file=str(source))
    partial.rename(target)
    return target


def check_types(kinds: list[str]) -> None:
    unknown = [k for k in kinds if k not in GGUF_TYPES]
    if unknown:
        raise GGUFError(f"unknown GGUF type {', '.join(unknown)}; choose from {', '.join(GGUF_TYPES)}", field="--gguf")


def write_ggufs(model_dir: Path, kinds: list[str], log: Callable[[str], None] = print) -> list[Path]:
    """``model_dir/model-<kind>.gguf`` for each kind (f16, q8_0, q4_k_m)."""
    check_types(kinds)
    full = model_dir / "model-f32.gguf.partial"
    log(f"converting {model_dir} to GGUF ({CONVERTER})")
    try:
        convert_f32(model_dir, full)
        written = []
        for kind in dict.fromkeys(kinds):
            log(f"quantising to {kind}")
            written.append(quantize(full, model_dir / gguf_name(kind), kind))
    finally:
        full.unlink(missing_ok=True)
    return written
