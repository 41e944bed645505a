"""A private network for a run's local workers: a loopback of their own and nothing else.

TensorFlow's gRPC server listens on every interface (``0.0.0.0``) whatever
address the cluster names, unauthenticated: local workers on 127.0.0.1 would
be reachable from the whole network for the run's length. So a local run
keeps a holder process in a new network namespace holding only a loopback
(``python -m labs.minibatch.private_net``), and each worker joins it
(``setns``) before TensorFlow starts. Creating one needs CAP_SYS_ADMIN (root,
as on this project's machines); where it is refused the run says so in its log
and the workers listen on every interface, as TensorFlow's own do.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import subprocess
import sys

from labs.minibatch import cluster as cluster_mod

CLONE_NEWNET = 0x40000000
FD_ENV = "MEETUP_LAB_NETNS_FD"  # a worker given this joins that network namespace first
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


class PrivateNetwork:
    """The holder of a network namespace, and an fd on it for workers to join."""

    def __init__(self) -> None:
        self.holder = subprocess.Popen(
            [sys.executable, "-m", "labs.minibatch.private_net"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=cluster_mod.child_env(),
        )
        assert self.holder.stdout is not None
        answer = self.holder.stdout.readline().strip()
        self.refusal = None if answer == "ready" else (answer.removeprefix("refused: ") or "no answer")
        self.fd: int | None = None
        if self.refusal is None:
            self.fd = os.open(f"/proc/{self.holder.pid}/ns/net", os.O_RDONLY)
        else:
            self.close()

    def worker_env(self) -> dict[str, str]:
        return {FD_ENV: str(self.fd)} if self.fd is not None else {}

    def pass_fds(self) -> tuple[int, ...]:
        return (self.fd,) if self.fd is not None else ()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait()
        for stream in (self.holder.stdin, self.holder.stdout):
            if stream is not None:
                stream.close()


def join_from_env() -> None:
    """In a worker, first thing: join the run's private network, if it was given one."""
    fd = os.environ.pop(FD_ENV, None)
    if fd is None:
        return
    if ctypes.CDLL(None, use_errno=True).setns(int(fd), CLONE_NEWNET) != 0:
        raise OSError(
            ctypes.get_errno(), f"cannot join the run's private network: {os.strerror(ctypes.get_errno())}"
        )
    os.close(int(fd))


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | _IFF_UP))


def main() -> None:
    """Make the namespace, say ``ready`` (or why not), and hold it until stdin closes."""
    cluster_mod.die_with_parent()
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        print(f"refused: {os.strerror(ctypes.get_errno())}", flush=True)
        return
    try:
        _loopback_up()
    except OSError as exc:
        print(f"refused: no loopback in the new namespace ({exc.strerror})", flush=True)
        return
    print("ready", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
