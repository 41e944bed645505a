"""The cluster file that names a multi-worker run's workers, and free local ports.

    {"worker": ["10.0.0.1:23456", "10.0.0.2:23456"],
     "job": {"model": "mlp", "global_batch": 512, "steps": 500},
     "seed": 0}

``worker`` lists host:port for each worker, in index order; ``job`` holds the
minibatch lab's settings every worker trains with (those left out take their
defaults); ``seed`` sets the data order and the starting weights. The same file
goes to every host, so all workers agree on what they do.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.teardown import exit_now

LOCALHOST = "127.0.0.1"
PARENT_ENV = "MEETUP_LAB_PARENT_PID"  # set by a run for the processes it starts itself


@dataclass(frozen=True)
class Cluster:
    workers: tuple[str, ...]
    job: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def write(self, path: Path) -> None:
        path.write_text(
            json.dumps({"worker": list(self.workers), "job": self.job, "seed": self.seed}, indent=2)
        )

    def tf_config(self, index: int) -> str:
        """The ``TF_CONFIG`` that makes this process worker ``index``."""
        return json.dumps(
            {"cluster": {"worker": list(self.workers)}, "task": {"type": "worker", "index": index}}
        )


def read(path: Path) -> Cluster:
    """The cluster in ``path``; a ValueError says in one line what is wrong with it."""
    try:
        obj = json.loads(Path(path).expanduser().read_text())
    except OSError as exc:
        raise ValueError(f"cannot read the cluster file {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the cluster file {path} is not JSON: {exc}") from None
    workers = obj.get("worker") if isinstance(obj, dict) else None
    if not isinstance(workers, list) or not workers or not all(_address(w) for w in workers):
        raise ValueError(f'the cluster file {path} needs "worker": a list of "host:port" strings')
    job, seed = obj.get("job", {}), obj.get("seed", 0)
    if not isinstance(job, dict) or not isinstance(seed, int):
        raise ValueError(f'the cluster file {path}: "job" must be an object and "seed" a whole number')
    return Cluster(tuple(workers), job, seed)


def _address(text: Any) -> bool:
    host, _, port = str(text).rpartition(":")
    return isinstance(text, str) and bool(host) and port.isdigit() and 0 < int(port) < 65536


def free_ports(count: int) -> list[int]:
    """Ports free now, chosen by the system (all held open together, so distinct).

    Free on every interface: TensorFlow's gRPC server listens on all of them,
    whatever host the cluster names.
    """
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("0.0.0.0", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def die_with_parent() -> None:
    """A process a run started (a worker, a probe) ends when that run's process does, even killed."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != int(parent):  # the parent died before the line above
        exit_now(1)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a process this run starts: it dies with the run."""
    return {**os.environ, PARENT_ENV: str(os.getpid()), **extra}
