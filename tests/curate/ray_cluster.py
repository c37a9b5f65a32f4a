"""A real Ray cluster on this machine for the curate tests: ``ray start --head`` with 2 CPUs in a session
of its own, and the builders the tests and their killed driver subprocess share.

Ray's processes (GCS, raylet, workers) all stay in the session ``ray start`` leads, even those that make a
process group of their own, so the cluster is stopped by signalling exactly the processes of that session
(never ``ray stop``, which stops every Ray process of the machine).

The cluster runs with token authentication and a token of its own (``RAY_AUTH_MODE=token``,
``RAY_AUTH_TOKEN_PATH`` in its folder), and the drivers get the same two variables (``RayCluster.auth``). Left
to Ray's defaults, the cluster and the driver would disagree on any machine where ``~/.ray/auth_token``
exists (written by any ``ray.init()`` that started a private cluster, ``address: local`` among them): Ray 2.60's
``ray start --head`` then turns authentication on, while ``ray.init(address=...)`` with an explicit address never
does and is refused (a ConnectionError after 20 s of retries). A token of the cluster's own also keeps the
user's ``~/.ray`` and ``RAY_AUTH_TOKEN`` out of it."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from curate_helpers import ANSWER_FA, qa, step

from medadapt.curate.config import EngineSpec
from medadapt.curate.engine import Datatrove
from medadapt.curate.steps import Step, StepEnv

RAY = Path(sys.executable).with_name("ray")


def docs(n: int = 60) -> list:
    return [qa(f"q{i}", f"سوال {i}", ANSWER_FA if i % 3 else "کوتاه است") for i in range(n)]


def answer_length() -> Step:
    return step({"step": "answer_length", "min_words": 5}, ["fa"])


def ray_engine(address: str, tasks: int, workers: int) -> Datatrove:
    spec = EngineSpec(kind="datatrove", executor="ray", tasks=tasks, workers=workers,
                      ray={"address": address, "mem_per_cpu_gb": 0.25})
    return Datatrove(spec, StepEnv(["fa"]))


def _session_pids(sid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True, check=True).stdout
    return [int(pid) for pid, s in (line.split() for line in out.splitlines()) if int(s) == sid]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RayCluster:
    address: str  # host:port of the head node
    auth: dict[str, str]  # the environment a driver needs to be let in


def driver_environment(auth: dict[str, str]) -> dict[str, str]:
    """This process's environment with the cluster's authentication in place of the user's."""
    return {**{k: v for k, v in os.environ.items() if k != "RAY_AUTH_TOKEN"}, **auth, "RAY_USAGE_STATS_ENABLED": "0"}


@contextmanager
def local_ray_cluster(num_cpus: int = 2) -> Iterator[RayCluster]:
    """Start a head node; yield its address and authentication; stop every process of its session afterwards."""
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths live under it
    token = Path(temp) / "auth_token"
    token.write_text(secrets.token_hex(32), encoding="utf-8")
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    port = _free_port()
    log = open(Path(temp) / "ray-start.log", "w")
    head = subprocess.Popen([str(RAY), "start", "--head", "--block", f"--num-cpus={num_cpus}", f"--port={port}",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
                             "--object-store-memory=100000000"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=driver_environment(auth))
    try:
        address = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in (Path(temp) / "ray-start.log").read_text():
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start failed: {(Path(temp) / 'ray-start.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield RayCluster(address, auth)
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in _session_pids(head.pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 3
            while _session_pids(head.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        head.wait(timeout=10)
        log.close()
