"""Time the minibatch step under one CPU thread setting: ``python -m labs.minibatch.probe JSON``.

A process of its own, because TensorFlow fixes its thread pools when it starts.
Prints one JSON line: seconds per step and the final loss.
"""

from __future__ import annotations

import json
import sys

from labs import events as ev
from labs.minibatch import cluster, distributed
from labs.minibatch.lab import MinibatchParams
from labs.teardown import exit_now


def main() -> None:
    cluster.die_with_parent()
    spec = json.loads(sys.argv[1])
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(spec["intra"])
    tf.config.threading.set_inter_op_parallelism_threads(spec["inter"])
    job = MinibatchParams.for_job(spec["job"], "placement")
    trainer, iterator = distributed.one_device(job, spec["seed"])
    steps = distributed.train_timed(
        trainer, iterator, job.steps, job.global_batch, 0, distributed.loss_curves(), ""
    )
    timing = ev.drain(steps)
    print(json.dumps({"step_s": timing.step, "loss": timing.loss}))
    exit_now(0)  # flushes the line above; TensorFlow's teardown is not worth waiting for


if __name__ == "__main__":
    main()
