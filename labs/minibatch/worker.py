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
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from labs import events as ev
from labs.commands import EXIT_FAILED, CommandError
from labs.minibatch import cluster as cluster_mod
from labs.minibatch import data, distributed, models, private_net, train
from labs.minibatch.lab import MinibatchParams
from labs.teardown import exit_now


class OneReplicaPerWorker(RuntimeError):
    """This lab gives each worker one slice of the global batch: a worker with several
    GPUs would get one per replica and so a wrong share."""


def serve(spec: cluster_mod.Cluster, index: int, out: TextIO, weights_path: Path | None = None) -> None:
    def say(**message: Any) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    p = MinibatchParams.for_job(spec.job, "multiworker", len(spec.workers))
    share = p.global_batch // len(spec.workers)
    os.environ["TF_CONFIG"] = spec.tf_config(index)
    import tensorflow as tf

    # No collective timeout (CommunicationOptions): TensorFlow keeps it for debugging, at a
    # thread per collective. A dead peer is found by the coordination service's heartbeat,
    # and a run that starts its workers watches them itself.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    if strategy.num_replicas_in_sync != len(spec.workers):
        raise OneReplicaPerWorker(
            f"{strategy.num_replicas_in_sync} replicas for {len(spec.workers)} workers: give each "
            "worker one device (CUDA_VISIBLE_DEVICES=N, or -1 for the CPU)"
        )
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

    def progress(event: ev.Event) -> None:
        if isinstance(event, ev.Metric):
            say(type="progress", step=event.step, **event.values)

    steps = distributed.train_timed(
        trainer, iterator, p.steps, p.global_batch, 0, distributed.loss_curves(), ""
    )
    timing = ev.drain(steps, progress)
    compute, allreduce = distributed.anatomy(trainer, iterator, p.steps)
    if weights_path is not None:
        np.savez(weights_path, *trainer.weights())
    say(type="done", step_s=timing.step, compute_s=compute, allreduce_s=allreduce, loss=timing.loss)


def main() -> None:
    """``python -m labs.minibatch.worker CLUSTER INDEX [WEIGHTS.npz]`` (how a run starts its own)."""
    cluster_mod.die_with_parent()
    private_net.join_from_env()  # before TensorFlow listens on anything
    spec = cluster_mod.read(Path(sys.argv[1]))
    serve(spec, int(sys.argv[2]), sys.stdout, Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    exit_now(0)  # not TensorFlow's teardown, which can hang once peers are gone


if __name__ == "__main__":
    main()


def command(cluster: Path, index: int) -> int:
    """``meetup-lab worker --cluster FILE --index I``: serve until the run is done. It never
    returns: it exits at once, since TensorFlow's teardown can hang once the other workers
    are gone."""
    from labs.params import ParamError

    try:
        spec = cluster_mod.read(cluster)
        MinibatchParams.for_job(spec.job, "multiworker", len(spec.workers))
    except (ValueError, ParamError) as exc:
        raise CommandError(str(exc)) from None
    if not 0 <= index < len(spec.workers):
        last = len(spec.workers) - 1
        raise CommandError(f"--index {index} is out of range: {cluster} names workers 0 to {last}")
    print(
        f"worker {index} of {len(spec.workers)} at {spec.workers[index]}: joining the others", file=sys.stderr
    )
    code = 0
    try:
        serve(spec, index, sys.stdout)
        print(f"worker {index}: done", file=sys.stderr)
    except Exception as exc:  # TensorFlow's errors run to pages: its first line says what happened
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        print(f"meetup-lab: error: worker {index} stopped: {first}", file=sys.stderr)
        code = EXIT_FAILED
    exit_now(code)
