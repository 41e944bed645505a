"""Time the minibatch step under one CPU thread setting: ``python -m labs.minibatch.probe JSON``.

A process of its own, because TensorFlow fixes its thread pools when it starts.
Prints one JSON line: seconds per step and the final loss.
"""

from __future__ import annotations

import json
import os
import sys

from labs.minibatch import distributed, train
from labs.minibatch.worker import job_params


def main() -> None:
    spec = json.loads(sys.argv[1])
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(spec["intra"])
    tf.config.threading.set_inter_op_parallelism_threads(spec["inter"])
    job = job_params(spec["job"], "placement")
    trainer, iterator = distributed.one_device(job, spec["seed"])
    step, loss = train.time_steps(trainer, iterator, job.steps, job.global_batch)
    print(json.dumps({"step_s": step, "loss": loss}), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
