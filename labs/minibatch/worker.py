"""One worker of a multi-worker run: ``meetup-lab worker --cluster FILE --index I``.

It joins ``tf.distribute.MultiWorkerMirroredStrategy`` through ``TF_CONFIG``,
trains the cluster file's job on its slice of every global batch, and reports
on stdout, one JSON object a line: ``joined``, then ``progress`` after each
compiled call, then ``done`` with its timings. The run that started it reads
these; a person who started it on a remote host sees them too.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from labs.minibatch import cluster as cluster_mod
from labs.minibatch import data, distributed, models, train
from labs.params import build

PARENT_ENV = "MEETUP_LAB_PARENT_PID"  # set by a run that starts its workers itself


def job_params(job: dict[str, Any], mode: str = "multiworker") -> Any:
    """The lab's parameters from a job's settings (a cluster file's, a probe's), for ``mode``."""
    from labs.minibatch.lab import MinibatchParams

    return build(MinibatchParams, {**job, "mode": mode})


def _die_with_parent() -> None:
    """A worker started by a run ends when that run's process does, even if it is killed."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != int(parent):  # the parent died before the line above
        os._exit(1)


def serve(spec: cluster_mod.Cluster, index: int, out: TextIO, weights_path: Path | None = None) -> None:
    def say(**message: Any) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    p = job_params(spec.job)
    share = p.global_batch // len(spec.workers)
    os.environ["TF_CONFIG"] = spec.tf_config(index)
    import tensorflow as tf

    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=p.worker_timeout)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    say(type="joined", index=index, replicas=strategy.num_replicas_in_sync)
    examples = data.load(p.data, p.examples, spec.seed)
    start = models.initial(p.model, p.l2, spec.seed)
    trainer = train.Trainer(lambda: models.build(p.model, p.l2), p.learning_rate, strategy)
    trainer.set_weights(start)

    def my_slice(context: Any) -> Any:
        # Every worker reads the same global batches and keeps its own slice, so
        # the summed gradient is the one-process gradient of the whole batch.
        i = context.input_pipeline_id
        batches = train.global_batches(examples.x_train, examples.y_train, p.global_batch)
        return batches.map(lambda x, y: (x[i * share : (i + 1) * share], y[i * share : (i + 1) * share]))

    iterator = iter(strategy.distribute_datasets_from_function(my_slice))

    def progress(done: int, loss: float, ms_per_step: float) -> None:
        say(type="progress", step=done, loss=loss, ms_per_step=ms_per_step)

    step, loss = train.time_steps(trainer, iterator, p.steps, p.global_batch, progress)
    compute, allreduce = distributed.anatomy(trainer, iterator, p.steps)
    if weights_path is not None:
        np.savez(weights_path, *trainer.weights())
    say(type="done", step_s=step, compute_s=compute, allreduce_s=allreduce, loss=loss)


def main() -> None:
    """``python -m labs.minibatch.worker CLUSTER INDEX [WEIGHTS.npz]`` (how a run starts its own)."""
    _die_with_parent()
    spec = cluster_mod.read(Path(sys.argv[1]))
    serve(spec, int(sys.argv[2]), sys.stdout, Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    sys.stdout.flush()
    os._exit(0)  # skip TensorFlow's teardown, which can hang once peers are gone


if __name__ == "__main__":
    main()
