"""multiworker: ``MultiWorkerMirroredStrategy`` over worker processes, against one process.

Locally the run starts every worker itself on 127.0.0.1 with free ports; with
``cluster=FILE`` it starts worker 0 here and the others are started on their
hosts with ``meetup-lab worker --cluster FILE --index I``. Every wait is
bounded: a worker that dies ends the run at once (the others are stopped), and
silence longer than ``worker_timeout`` ends it too.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from labs import events as ev
from labs.context import RunContext, RunError
from labs.minibatch import cluster as cluster_mod
from labs.minibatch import distributed
from labs.minibatch.curves import Curves
from labs.minibatch.private_net import PrivateNetwork
from labs.params import to_dict

EXIT_GRACE_S = 30.0  # after the chief is done, how long the workers get to exit
DEATH_SETTLE_S = 0.5  # after one worker dies, how long to wait to see which others go with it


class Workers:
    """The worker processes this run started, their output lines merged into one queue."""

    def __init__(
        self, ctx: RunContext, spec: cluster_mod.Cluster, indices: list[int], net: PrivateNetwork | None
    ) -> None:
        self.spec = spec
        self.lines: queue.Queue[tuple[int, str | None]] = queue.Queue()
        self.procs: dict[int, subprocess.Popen[str]] = {}
        self.logs = {i: ctx.run_dir / f"worker-{i}.log" for i in indices}
        self.weights = ctx.run_dir / "worker-0-weights.npz"
        path = ctx.run_dir / "cluster.json"
        spec.write(path)
        # Local workers share this machine's CPU rather than all take one GPU.
        self.cpu_only = ctx.device == "cpu" or len(indices) > 1
        env = cluster_mod.child_env(**({"CUDA_VISIBLE_DEVICES": "-1"} if self.cpu_only else {}))
        env.update(net.worker_env() if net is not None else {})
        fds = net.pass_fds() if net is not None else ()
        try:
            for i in indices:
                command = [sys.executable, "-m", "labs.minibatch.worker", str(path), str(i)]
                command += [str(self.weights)] if i == 0 else []
                with self.logs[i].open("w") as log:
                    proc = subprocess.Popen(
                        command, stdout=subprocess.PIPE, stderr=log, text=True, env=env, pass_fds=fds
                    )
                self.procs[i] = proc
                assert proc.stdout is not None
                threading.Thread(target=self._pump, args=(i, proc.stdout), daemon=True).start()
        except OSError as exc:
            self.stop()  # the ones started would wait for their peers for ever
            raise RunError(f"cannot start a worker process: {exc}") from None

    def _pump(self, index: int, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put((index, line))
        self.lines.put((index, None))

    def check(self) -> None:
        """Raise RunError when a worker has died, naming it and why."""
        first = {i: p.poll() for i, p in self.procs.items() if p.poll() not in (None, 0)}
        if not first:
            return
        # A dead worker takes its peers down with it: of those found dead first, a
        # killed one is the cause more surely than one that failed for want of it.
        time.sleep(DEATH_SETTLE_S)
        killed = {i: code for i, code in first.items() if code is not None and code < 0}
        index, code = next(iter(killed.items() or first.items()))
        assert code is not None
        if code < 0:  # killed: whatever it logged last says nothing about why
            why = f"was killed by {signal.Signals(-code).name}"
        else:
            last = self.last_line(index)
            why = f"exited with status {code}" + (f" ({last})" if last else "")
        raise RunError(f"worker {index} ({self.spec.workers[index]}) {why}; the other workers were stopped")

    def last_line(self, index: int) -> str:
        try:
            lines = self.logs[index].read_text(errors="replace").splitlines()
        except OSError:
            return ""
        meaningful = [
            line.strip() for line in lines if line.strip() and not line.startswith(("I0000", "W0000"))
        ]
        return meaningful[-1][:300] if meaningful else ""

    def wait(self) -> None:
        deadline = time.monotonic() + EXIT_GRACE_S
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs.values():
            proc.wait()


def run(p: Any, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    if p.cluster:
        try:
            spec = cluster_mod.read(Path(p.cluster))
        except ValueError as exc:
            raise RunError(str(exc)) from None
        indices = [0]
        job = type(p).for_job(spec.job, "multiworker", len(spec.workers))
        yield ev.Log(
            f"cluster {p.cluster}: {len(spec.workers)} workers; "
            f"this run starts worker 0 at {spec.workers[0]}. "
            f"Start the others on their hosts: meetup-lab worker --cluster {p.cluster} --index I. "
            "Every worker trains with the file's job settings."
        )
        net = None  # the file's hosts are the user's: their addresses and exposure as given
    else:
        job = p
        ports = cluster_mod.free_ports(p.workers)
        spec = cluster_mod.Cluster(
            tuple(f"{cluster_mod.LOCALHOST}:{port}" for port in ports), to_dict(p), ctx.seed
        )
        indices = list(range(p.workers))
        net = PrivateNetwork()
        if net.refusal is None:
            yield ev.Log(
                "the workers share a private network: a loopback of their own, reachable from nowhere else"
            )
        else:
            yield ev.Log(
                f"no private network for the workers ({net.refusal}): TensorFlow's gRPC servers "
                "listen on every interface of this machine for the run's length",
                level="warning",
            )
            net = None
    try:
        workers = Workers(ctx, spec, indices, net)
    finally:
        if net is not None:
            net.close()  # the workers have joined it (or failed to start): it lives on with them
    curves = distributed.loss_curves()
    try:
        for i, proc in workers.procs.items():
            yield ev.Log(f"worker {i} started: pid {proc.pid}, {spec.workers[i]}")
        result = yield from _follow(workers, p.worker_timeout, ctx, curves)
        if not result:  # cancelled
            return {}
        workers.wait()
    finally:
        workers.stop()
    n = len(spec.workers)
    timing = distributed.Timing(result["step_s"], result["compute_s"], result["allreduce_s"], result["loss"])
    many = distributed.Measurement(f"{n} workers", n, job.global_batch, timing)
    # The reference runs where the workers did: on the CPU when they had no GPU.
    device = "/CPU:0" if workers.cpu_only else None
    one, weights = yield from _one_process(job, spec.seed, job.steps, curves, device)
    with np.load(workers.weights) as saved:
        chief = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    difference = distributed.max_difference(weights, chief)
    single = distributed.Measurement("1 process", 1, job.global_batch, one)
    # The projection's settings are this run's; the batch is the one the workers trained on.
    settings = replace(p, global_batch=job.global_batch, cluster="")
    return (yield from distributed.report(settings, [single, many], difference))


def _follow(
    workers: Workers, timeout: float, ctx: RunContext, curves: Curves
) -> Generator[ev.Event, None, dict[str, Any]]:
    """Relay the workers' reports until the chief is done; fail on a death, or on a
    silence of ``timeout`` seconds (the run's own ``worker_timeout``)."""
    deadline = time.monotonic() + timeout
    series = f"{len(workers.spec.workers)} workers"
    while True:
        if ctx.cancelled:
            return {}
        try:
            index, line = workers.lines.get(timeout=0.25)
        except queue.Empty:
            workers.check()
            if time.monotonic() > deadline:
                every = ", ".join(workers.spec.workers)
                raise RunError(
                    f"no word from the workers for {timeout:g} s (worker_timeout): are all "
                    f"{len(workers.spec.workers)} started, and can they reach {every}?"
                ) from None
            continue
        deadline = time.monotonic() + timeout
        if line is None:
            workers.check()
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            continue  # not ours: a library printing to stdout
        if message.get("type") == "joined":
            yield ev.Log(f"worker {index} joined: {message['replicas']} replicas in sync")
        elif index == 0 and message.get("type") == "progress":
            yield ev.Metric(message["step"], {"loss": message["loss"], "ms_per_step": message["ms_per_step"]})
            if chart := curves.add(series, message["step"], message["loss"]):
                yield chart
        elif index == 0 and message.get("type") == "done":
            yield curves.chart()
            return dict(message)


def _one_process(
    job: Any, seed: int, first_step: int, curves: Curves, device: str | None
) -> Generator[ev.Event, None, tuple[Any, list[Any]]]:
    """The same steps in this one process: the reference for speed and for the result."""
    trainer, iterator = distributed.one_device(job, seed, device)
    timing = yield from distributed.train_timed(
        trainer, iterator, job.steps, job.global_batch, first_step, curves, "1 process"
    )
    return timing, trainer.weights()
