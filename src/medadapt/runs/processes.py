"""The processes of one multi-process launch (``accelerate launch``, ``torchrun``): which one is the main
process, how the others wait for it, and how work is split between them and merged again.

Without a launch (``WORLD_SIZE`` unset or 1) every function is the one-process identity, so callers need no
branch of their own. The launchers set ``RANK`` and ``WORLD_SIZE`` in every process before medadapt starts;
the process group is created on first use through accelerate's ``PartialState``, the state the Trainer uses
later, so training joins that group instead of making a second one. Messages between processes (the main
process's decisions and results, merged shards) go through a gloo group of their own with a long timeout:
the other processes may wait hours while the main one crawls or curates, and a GPU (NCCL) collective left
waiting that long would be killed by its watchdog.

A process that fails exits, and the launcher stops the others (torchrun's agent does), so a failure on the
main process never leaves the others waiting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")

#: how long a process waits for the others at a message (the main process running earlier stages alone)
WAIT = timedelta(hours=72)

_messages: Any = None  # the gloo group, once created


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def launched() -> bool:
    """Whether this process is one of several started by a launcher."""
    return world_size() > 1


def is_main() -> bool:
    """The process that runs the stages that are not split and writes every file (rank 0)."""
    return rank() == 0


def _group() -> Any:
    global _messages
    if _messages is None:
        import torch
        import torch.distributed as dist
        from accelerate import PartialState

        PartialState(cpu=not torch.cuda.is_available())  # the Trainer's own choice: use_cpu = no CUDA
        _messages = dist.new_group(backend="gloo", timeout=WAIT)
    return _messages


def share(value: T) -> T:
    """The main process's ``value`` (a decision, a result) in every process; also a barrier: no process
    returns before the main one has called it."""
    if not launched():
        return value
    import torch.distributed as dist

    box = [value if is_main() else None]
    dist.broadcast_object_list(box, src=0, group=_group())
    return box[0]


def on_main(work: Callable[[], T]) -> T:
    """Run ``work`` in the main process only; the others wait for it to end and get what it returned."""
    return share(work() if is_main() else None)


def shard(items: Sequence[T]) -> list[T]:
    """This process's part of ``items``: contiguous and in order, the first parts one longer when the count
    does not divide (accelerate's ``split_between_processes``); :func:`merged` puts the parts back together."""
    base, extra = divmod(len(items), world_size())
    start = rank() * base + min(rank(), extra)
    return list(items[start : start + base + (rank() < extra)])


def merged(part: list[T]) -> list[T]:
    """Every process's ``part`` (of :func:`shard`), concatenated in rank order: the whole list, in every
    process, in the order one process would have produced it."""
    if not launched():
        return part
    import torch.distributed as dist

    parts: list[Any] = [None] * world_size()
    dist.all_gather_object(parts, part, group=_group())
    return [item for p in parts for item in p]
