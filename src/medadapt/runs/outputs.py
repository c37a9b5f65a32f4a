"""Which model a finished train stage left in a run directory — what evaluation, chat and export load (the
run layout is shared knowledge, so no stage imports the train stage for it)."""

from __future__ import annotations

from pathlib import Path

from medadapt.errors import RunError


def trained_model(train_dir: Path, base_model: str) -> tuple[str, Path | None]:
    """(model reference, adapter or None): the merged model when the stage wrote one, else a full fine-tune's
    ``model/``, else the base model + ``adapter/`` (with ``between_stages: stack``, a stack of the stage-1 and
    stage-2 adapters, which ``medadapt.models.loading`` applies together)."""
    for folder in ("merged", "model"):
        if (train_dir / folder / "config.json").is_file():
            return str(train_dir / folder), None
    adapter = train_dir / "adapter"
    if (adapter / "adapter_config.json").is_file():
        return base_model, adapter
    raise RunError("no trained model (train/merged, train/model or train/adapter); run the train stage first",
                   file=str(train_dir))
