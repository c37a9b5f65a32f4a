"""A real single-node Slurm on this machine for the curate tests, from Debian's packages (slurmctld, slurmd,
slurm-client, munge; `make test` installs them when it runs as root with apt): munged, slurmctld and slurmd
run in the foreground as children of the test, with their own key, configuration, ports and state under a
temporary folder, so nothing of the machine's own set-up is read or changed. About 2 s to start."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DAEMONS = {name: Path("/usr/sbin") / name for name in ("munged", "slurmctld", "slurmd")}
CLIENTS = ("sbatch", "squeue", "sinfo", "scancel", "srun")


def missing() -> list[str]:
    """What is not installed, for the test's skip reason."""
    return [n for n, p in DAEMONS.items() if not p.is_file()] + [c for c in CLIENTS if shutil.which(c) is None]


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _config(folder: Path, host: str, cpus: int) -> str:
    ctld_port, slurmd_port = _free_ports(2)
    return "\n".join([
        "ClusterName=medadapt-test", f"SlurmctldHost={host}", f"SlurmctldPort={ctld_port}",
        f"SlurmdPort={slurmd_port}", "SlurmUser=root", "SlurmdUser=root", "AuthType=auth/munge",
        f"AuthInfo=socket={folder / 'munge.socket'}", f"StateSaveLocation={folder / 'state'}",
        f"SlurmdSpoolDir={folder / 'spool'}", f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
        f"SlurmdPidFile={folder / 'slurmd.pid'}", f"SlurmctldLogFile={folder / 'slurmctld.log'}",
        f"SlurmdLogFile={folder / 'slurmd.log'}", "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory", "MpiDefault=none",
        "ReturnToService=2", f"NodeName={host} CPUs={cpus} RealMemory=2048 State=UNKNOWN",
        f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP", ""])


@contextmanager
def local_slurm(cpus: int = 2) -> Iterator[dict[str, str]]:
    """Start munge and a one-node Slurm cluster (partition ``debug``); yield the environment its clients
    need (``SLURM_CONF``); cancel what is left and stop the three daemons afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="slurm", dir="/tmp"))
    for sub in ("state", "spool"):
        (folder / sub).mkdir()
    key = folder / "munge.key"
    key.write_bytes(secrets.token_bytes(1024))
    key.chmod(0o400)
    host = socket.gethostname().split(".")[0]
    conf = folder / "slurm.conf"
    conf.write_text(_config(folder, host, cpus))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    logs = open(folder / "daemons.log", "w")
    daemons: list[subprocess.Popen] = []
    try:
        daemons.append(subprocess.Popen(
            [str(DAEMONS["munged"]), "--foreground", "--force", f"--key-file={key}",
             f"--socket={folder / 'munge.socket'}", f"--pid-file={folder / 'munged.pid'}",
             f"--log-file={folder / 'munged.log'}", f"--seed-file={folder / 'munge.seed'}"],
            stdout=logs, stderr=subprocess.STDOUT))
        _wait(lambda: (folder / "munge.socket").exists(), "munged", folder)
        for name in ("slurmctld", "slurmd"):
            daemons.append(subprocess.Popen([str(DAEMONS[name]), "-D", "-f", str(conf)], stdout=logs,
                                            stderr=subprocess.STDOUT, env=env))

        def idle() -> bool:
            state = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True, env=env)
            return state.stdout.strip() == "idle"

        _wait(idle, "slurmctld/slurmd", folder)
        yield {"SLURM_CONF": str(conf)}
    finally:
        subprocess.run(["scancel", "--full", f"--partition=debug"], capture_output=True, env=env)
        for daemon in reversed(daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        logs.close()


def _wait(ready, what: str, folder: Path, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not ready():
        if time.monotonic() > deadline:
            logs = "; ".join(p.read_text()[-500:] for p in sorted(folder.glob("*.log")))
            raise RuntimeError(f"{what} did not start: {logs}")
        time.sleep(0.2)
