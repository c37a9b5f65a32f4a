"""Two training processes on the CPU (gloo), started by the very command ``medadapt train RECIPE --launch``
prints: the run completes, only the main process writes (the manifest, the adapter, every log and summary),
and the loss curve is the one a single process draws with the same global batch.

Same global batch: 2 processes × batch_size 2 against 1 process × batch_size 4; the Trainer's sampler gives the
two processes the two halves of the batch the single process takes, and with ``average_tokens_across_devices``
the averaged gradients are the single process's. LoRA dropout is 0: dropout masks come from each process's
own random stream, which no launch can make equal to one process's. What remains is the order of fp32 sums
(two half-batch sums all-reduced against one sum over the batch), rounding each value at ~1e-7 relative;
measured: at most 5e-7 absolute on losses near 6 over 4 + 4 steps. The tolerance, 1e-5 relative, is 20× that,
and 30× smaller than what a real fault does: before the fix in ``train.fit`` (a dev evaluation before
``train()`` left the model without its DDP wrapper), each process trained alone and the loss at step 3 was
3e-4 relative off.
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import run_train, train_recipe, write_data
from typer.testing import CliRunner

from medadapt.cli.main import app

TOLERANCE = 1e-5
AUDITED = Path(__file__).with_name("audited_medadapt.py")


def _recipe(model_dir: Path, batch_size: int) -> dict:
    no_dropout = {"lora": {"dropout": 0}, "batch_size": batch_size}
    recipe = train_recipe(model_dir, stage1=no_dropout, stage2=no_dropout, distributed="ddp")
    return {**recipe, "data": {"sources": [{"path": "chat.jsonl", "format": "chat"}]}}  # the CLI wants one


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _losses(train_dir: Path, log: str) -> list[tuple[int, str, float]]:
    rows = [json.loads(line) for line in (train_dir / log).read_text().splitlines()]
    return [(row["step"], key, row[key]) for row in rows for key in ("loss", "eval_loss") if key in row]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, tiny_model_dir):
    """(train/ of the 2-process run, its audit lines, train/ of the 1-process run)."""
    folder = tmp_path_factory.mktemp("two-processes")
    write_data(folder)
    recipe = folder / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(_recipe(tiny_model_dir, batch_size=2)), encoding="utf-8")
    printed = CliRunner().invoke(app, ["train", str(recipe), "--launch", "--processes", "2", "--runs-dir",
                                       str(folder / "runs")], env={"COLUMNS": "1000"})
    assert printed.exit_code == 0, printed.output
    command = shlex.split(printed.output.strip())
    script = next(i for i, part in enumerate(command) if part.endswith("/medadapt"))
    # the printed command, with the venv's accelerate, a free port and the recording medadapt script
    command = [str(Path(sys.executable).with_name("accelerate")), "launch", "--main_process_port",
               str(_free_port()), *command[2:script], str(AUDITED), *command[script + 1:]]
    audit = folder / "audit.txt"
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "MEDADAPT_AUDIT": str(audit)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    one = run_train(folder / "one", _recipe(tiny_model_dir, batch_size=4))
    return folder / "runs/tiny/train", audit.read_text().splitlines(), one


def test_the_printed_command_trains_in_two_processes_and_only_the_main_one_writes(two_processes):
    train, audit, _ = two_processes
    summary = json.loads((train / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["stage1"]["steps"] == 4 and summary["merged"] == "merged"
    manifest = json.loads((train.parent / "manifest.json").read_text())
    assert manifest["stages"]["train"]["status"] == "done"
    writers = {line.split(" ", 1)[0] for line in audit}
    assert writers == {"0"}, [line for line in audit if not line.startswith("0 ")][:5]
    saved = [Path(line.split()[-1]).name for line in audit if "PeftModel.save_pretrained" in line]
    assert [name for name in saved if name == "adapter"] == ["adapter", "adapter"]  # stage 1, stage 2: once each
    assert saved.count("checkpoint-4") == 2  # the Trainer's last checkpoint of each stage, once too
    assert sum("Manifest.save" in line for line in audit) == 2  # running, then done: by the main process
    assert (train / "adapter/adapter_model.safetensors").is_file() and (train / "merged/config.json").is_file()


def test_two_processes_draw_the_loss_curve_of_one_with_the_same_global_batch(two_processes):
    train, _, one = two_processes
    for log in ("stage1/log.jsonl", "log.jsonl"):
        two_curve, one_curve = _losses(train, log), _losses(one, log)
        assert [(step, key) for step, key, _ in two_curve] == [(step, key) for step, key, _ in one_curve]
        assert len([key for _, key, _ in one_curve if key == "loss"]) == 4
        for (step, key, a), (_, _, b) in zip(two_curve, one_curve):
            assert abs(a - b) <= TOLERANCE * abs(b), (log, step, key, a, b)
