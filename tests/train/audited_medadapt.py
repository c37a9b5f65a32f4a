"""``medadapt``, with every write of a file the train stage and the runner make (JSON and JSONL, the
manifest, adapters, models, tokenizers) recorded as "RANK what path" in $MEDADAPT_AUDIT: the script that
tests/train/test_multiprocess.py runs under ``accelerate launch`` in place of the ``medadapt`` console script.
Patched before the stages are imported, so their ``from … import write_json`` picks up the recording one."""

from __future__ import annotations

import os
from pathlib import Path

AUDIT = Path(os.environ["MEDADAPT_AUDIT"])


def _record(what: str, path) -> None:
    with AUDIT.open("a", encoding="utf-8") as handle:
        handle.write(f"{os.environ.get('RANK', '0')} {what} {path}\n")


def _audit(owner, name: str) -> None:
    original = getattr(owner, name)

    def recorded(first, *args, **kwargs):
        target = first if isinstance(first, (str, Path)) else args[0] if args else kwargs.get("path")
        _record(f"{getattr(owner, '__name__', owner)}.{name}", target)
        return original(first, *args, **kwargs)

    setattr(owner, name, recorded)


def main() -> None:
    import medadapt.records.jsonl as jsonl
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from medadapt.runs.manifest import Manifest

    _audit(jsonl, "write_json")
    _audit(jsonl, "write_jsonl")
    for owner in (Manifest,):
        _audit(owner, "save")
    for owner in (PeftModel, PreTrainedModel, PreTrainedTokenizerBase):
        _audit(owner, "save_pretrained")
    from medadapt.cli.main import main as medadapt

    medadapt()


if __name__ == "__main__":
    main()
