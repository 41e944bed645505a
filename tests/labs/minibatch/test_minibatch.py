"""The minibatch lab with real TensorFlow, real worker processes on 127.0.0.1 and
the real CLI: textbook batch-size behaviour on a convex problem, mirrored and
multi-worker results equal to one device's, and workers that fail cleanly."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from labs import events as ev
from labs.compare import compare
from labs.minibatch import cluster, data, projection
from labs.minibatch.curves import Curves
from labs.minibatch.lab import MinibatchParams
from labs.params import ParamError, build
from labs.recording import RunRecord
from tests.support import WAIT_S, alive, run_cli, run_dirs, start_cli, wait_until

L2 = 0.01  # strong convexity: the multinomial logistic regression has one optimum


def minibatch(*sets: str, timeout: float = 300) -> tuple[int, list[ev.Event]]:
    args = [arg for s in sets for arg in ("--set", s)]
    done = run_cli("run", "minibatch", "--headless", "--json", "--device", "cpu", *args, timeout=timeout)
    return done.returncode, [ev.from_json(line) for line in done.stdout.splitlines()]


def terminal(events: list[ev.Event]) -> ev.Event:
    return next(e for e in reversed(events) if isinstance(e, ev.TERMINAL))


def last(events: list[ev.Event], kind: type, name: str) -> ev.Event:
    return next(e for e in reversed(events) if isinstance(e, kind) and e.name == name)  # type: ignore[attr-defined]


def digits_optimum() -> float:
    """The objective's minimum, by scikit-learn: mean cross-entropy + L2·|W|² is its
    multinomial loss with C = 1 / (2·L2·n), bias unpenalised as in Keras's L2."""
    from sklearn.linear_model import LogisticRegression

    examples = data.load("digits", 0, 0)
    x, y = examples.x_train.reshape(examples.size, -1).astype(np.float64), examples.y_train
    fit = LogisticRegression(C=1 / (2 * L2 * len(y)), tol=1e-10, max_iter=10_000).fit(x, y)
    p = fit.predict_proba(x)[np.arange(len(y)), y]
    return float(-np.mean(np.log(p)) + L2 * np.sum(fit.coef_**2))


def safe_rate() -> float:
    """Below 2/L a full-batch gradient step cannot increase a convex L-smooth loss. The
    cross-entropy's Hessian is at most 1/2 · λmax(XᵀX/n) (with the bias column), the
    penalty's is 2·L2; 1.9/L keeps a margin below the limit."""
    examples = data.load("digits", 0, 0)
    x = examples.x_train.reshape(examples.size, -1).astype(np.float64)
    x = np.hstack([x, np.ones((len(x), 1))])
    smoothness = 0.5 * np.linalg.eigvalsh(x.T @ x / len(x)).max() + 2 * L2
    return 1.9 / smoothness


def sweep_losses(*sets: str) -> dict[str, list[float]]:
    code, events = minibatch("mode=batch-sweep", f"l2={L2}", *sets)
    assert code == 0, terminal(events)
    chart = last(events, ev.Chart, "loss vs time")
    assert isinstance(chart, ev.Chart)
    return {name: [loss for _, loss in points] for name, points in chart.series.items()}


@pytest.mark.slow
def test_full_batch_descends_monotonically_to_the_optimum_at_a_safe_rate() -> None:
    losses = sweep_losses("batch_sizes=full", "epochs=300", f"learning_rate={safe_rate()}")["b=full"]
    assert len(losses) == 301  # the start, then one point per epoch (one step each)
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    # 300 steps of gradient descent leave a gap of a few thousandths (measured: 0.004).
    assert losses[-1] - digits_optimum() < 0.01


@pytest.mark.slow
def test_small_batches_reach_the_same_optimum() -> None:
    # A constant step leaves SGD in a neighbourhood of the optimum whose size grows with
    # the rate and the gradient noise; at these rates it is under 0.01 (measured 0.005-0.007).
    optimum = digits_optimum()
    one = sweep_losses("batch_sizes=1", "epochs=10", "learning_rate=0.01")["b=1"]
    batch = sweep_losses("batch_sizes=32", "epochs=40", "learning_rate=0.2")["b=32"]
    assert abs(one[-1] - optimum) < 0.01 and abs(batch[-1] - optimum) < 0.01


@pytest.mark.slow
def test_the_sweep_reports_every_batch_size_in_a_table_a_chart_and_a_csv(runs_dir: Path) -> None:
    code, events = minibatch("batch_sizes=1,64,512,full", "epochs=2", "data=generated", "examples=400")
    assert code == 0
    started = events[0]
    assert isinstance(started, ev.Started) and started.total_steps == 3 * 2  # 512 is the whole set too
    table = last(events, ev.Table, "batch sizes")
    assert isinstance(table, ev.Table)
    assert [row[0] for row in table.rows] == ["1", "64", "full"]
    assert [row[1] for row in table.rows] == [320, 5, 1]  # steps per epoch over 320 training images
    chart = last(events, ev.Chart, "loss vs time")
    assert isinstance(chart, ev.Chart) and list(chart.series) == ["b=1", "b=64", "b=full"]
    assert all(len(points) == 3 for points in chart.series.values())
    by_epoch = last(events, ev.Chart, "loss vs epoch")
    assert isinstance(by_epoch, ev.Chart) and [x for x, _ in by_epoch.series["b=64"]] == [0, 1, 2]
    (folder,) = run_dirs(runs_dir)
    with (folder / "artifacts" / "batch-sizes.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "batch" and [r[0] for r in rows[1:]] == ["1", "64", "full"]
    assert RunRecord(folder).tables()[0].rows == table.rows  # what `show` prints again


@pytest.mark.slow
def test_headless_prints_the_final_tables() -> None:
    done = run_cli("run", "minibatch", "--headless", "--set", "epochs=1", "--set", "batch_sizes=8,full")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("batch sizes"))
    assert lines[header + 1].split()[:2] == ["batch", "steps/epoch"]
    assert [lines[header + 2].split()[0], lines[header + 3].split()[0]] == ["8", "full"]


@pytest.mark.slow
def test_the_sweep_summary_names_the_best_batch_size_not_the_last(runs_dir: Path) -> None:
    # Two epochs: 360 steps for batch 8, 24 for 128 and 2 for the full batch, which is
    # trained last and ends furthest from the optimum.
    sizes = ("--set", "batch_sizes=8,128,full", "--set", "epochs=2")
    done = run_cli("run", "minibatch", "--headless", "--device", "cpu", *sizes, timeout=300)
    assert done.returncode == 0, done.stderr
    (folder,) = run_dirs(runs_dir)
    record = RunRecord(folder)
    (table,) = record.tables()
    loss_at, accuracy_at = table.columns.index("final loss"), table.columns.index("test accuracy")
    winner = min(table.rows, key=lambda row: row[loss_at])  # type: ignore[arg-type, return-value]
    assert winner[0] == "8" and table.rows[-1][0] == "full"
    summary = record.summary
    assert summary is not None
    result = summary["result"]
    assert result["best_batch"] == "8" and "loss" not in result  # no last size's loss posing as the run's
    assert round(result["best_loss"], 5) == winner[loss_at]
    assert round(result["best_test_accuracy"], 4) == winner[accuracy_at]
    assert ["best_batch", "8"] in [line.split() for line in done.stdout.splitlines()]  # the printed summary
    # The metrics end with the best beside the last size's own, which the run screen shows too.
    metrics = summary["metrics"]
    assert metrics["best_batch"] == 8 and metrics["best_loss"] == result["best_loss"]
    assert metrics["batch"] == data.train_size("digits", 0) and metrics["loss"] > metrics["best_loss"]
    assert summary["key_metric"] == {"best_loss": result["best_loss"]}
    comparison = compare([record])
    assert comparison.metric == "best_loss" and comparison.goal == "min"
    assert comparison.rows[0].final == [result["best_loss"]]
    assert "metric: best_loss (lowest best)" in run_cli("compare", record.run_id).stdout


@pytest.mark.slow
def test_mirrored_over_two_logical_cpus_equals_one_device() -> None:
    code, events = minibatch("mode=mirrored", "devices=2", "steps=20", "model=mlp", "global_batch=64")
    assert code == 0, terminal(events)
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert "replicas on /CPU:0, /CPU:1; global batch 64" in logs
    assert any(m.startswith("PASS: the weights differ from one device's by at most") for m in logs)
    summary = terminal(events).summary  # type: ignore[union-attr]
    # 20 SGD steps in float32 with sums taken in another order: differences of a few ulps.
    assert summary["max_weight_difference"] < 1e-5
    scaling = last(events, ev.Table, "scaling")
    assert isinstance(scaling, ev.Table)
    # A replica's share on one device, the whole global batch on one device, then the replicas.
    assert [row[:2] for row in scaling.rows] == [("1 device", 32), ("1 device", 64), ("2 replicas", 64)]
    assert scaling.rows[1][4] == 1.0 and scaling.rows[2][5] is not None
    projected = last(events, ev.Table, "projection")
    assert isinstance(projected, ev.Table) and [row[0] for row in projected.rows] == [1, 2, 4, 8, 16, 32, 64]


@pytest.mark.slow
def test_two_workers_on_localhost_equal_one_process(runs_dir: Path) -> None:
    code, events = minibatch("mode=multiworker", "workers=2", "steps=20", "global_batch=64")
    assert code == 0, terminal(events)
    joined = [e.message for e in events if isinstance(e, ev.Log) and "joined" in e.message]
    assert sorted(joined) == ["worker 0 joined: 2 replicas in sync", "worker 1 joined: 2 replicas in sync"]
    assert terminal(events).summary["max_weight_difference"] < 1e-5  # type: ignore[union-attr]
    (folder,) = run_dirs(runs_dir)
    spec = cluster.read(folder / "cluster.json")
    hosts = {address.rsplit(":", 1)[0] for address in spec.workers}
    assert hosts == {"127.0.0.1"} and len(set(spec.workers)) == 2


def worker_pids(proc: subprocess.Popen[str], seen: list[ev.Event]) -> dict[int, int]:
    """Read the run's events until both workers have joined; their pids by index."""
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(ev.from_json(line))
        logs = [e.message for e in seen if isinstance(e, ev.Log)]
        if sum("joined" in m for m in logs) == 2:
            started = [m.split() for m in logs if " started: pid " in m]
            return {int(words[1]): int(words[4].rstrip(",")) for words in started}
    pytest.fail(f"the run ended before its workers joined: {seen[-1:]}")


def start_long_multiworker() -> subprocess.Popen[str]:
    """Two local workers on a run too long to end by itself, its events as JSON on stdout."""
    return start_cli(
        "run", "minibatch", "--headless", "--json", "--device", "cpu",
        "--set", "mode=multiworker", "--set", "steps=10000000", "--set", "worker_timeout=120",
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.slow
def test_killing_a_worker_fails_the_run_and_stops_the_other() -> None:
    proc = start_long_multiworker()
    seen: list[ev.Event] = []
    try:
        pids = worker_pids(proc, seen)
        os.kill(pids[1], signal.SIGKILL)
        out, _ = proc.communicate(timeout=WAIT_S)
    finally:
        proc.kill()
    events = seen + [ev.from_json(line) for line in out.splitlines()]
    failed = terminal(events)
    assert isinstance(failed, ev.Failed)
    assert failed.reason.startswith("worker 1 (127.0.0.1:") and "killed by SIGKILL" in failed.reason
    assert "the other workers were stopped" in failed.reason
    wait_until(lambda: not alive(pids[0]), "worker 0 to be gone")
    assert proc.returncode == 1


def _listening_ports(net_tcp_files: list[Path]) -> set[int]:
    """Ports in the LISTEN state (0A) in /proc/.../net/tcp and tcp6."""
    ports = set()
    for path in net_tcp_files:
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.mark.slow
def test_local_workers_listen_only_on_a_loopback_of_their_own(runs_dir: Path) -> None:
    """TensorFlow's gRPC servers bind every interface: local workers are kept in a network
    namespace that holds nothing but a loopback, so no other host can reach them."""
    proc = start_long_multiworker()
    seen: list[ev.Event] = []
    try:
        pids = worker_pids(proc, seen)
        logs = [e.message for e in seen if isinstance(e, ev.Log)]
        if any(m.startswith("no private network") for m in logs):
            pytest.skip(next(m for m in logs if m.startswith("no private network")))
        assert any(m.startswith("the workers share a private network") for m in logs)
        (folder,) = run_dirs(runs_dir)
        ports = {int(a.rsplit(":", 1)[1]) for a in cluster.read(folder / "cluster.json").workers}
        ours = os.readlink("/proc/self/ns/net")
        host = _listening_ports([Path("/proc/self/net/tcp"), Path("/proc/self/net/tcp6")])
        assert not ports & host  # nothing of theirs listens where other hosts can reach
        for pid in pids.values():
            assert os.readlink(f"/proc/{pid}/ns/net") != ours
            interfaces = [
                line.split(":")[0].strip()
                for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
            ]
            assert interfaces == ["lo"]
            inside = _listening_ports([Path(f"/proc/{pid}/net/tcp"), Path(f"/proc/{pid}/net/tcp6")])
            assert ports <= inside  # they do listen, on their own loopback
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=WAIT_S)
    finally:
        proc.kill()
    for pid in pids.values():
        wait_until(lambda p=pid: not alive(p), f"worker {pid} to be gone")


@pytest.mark.slow
def test_a_worker_that_never_comes_fails_the_run_after_the_timeout(tmp_path: Path) -> None:
    ports = cluster.free_ports(2)
    path = tmp_path / "cluster.json"
    cluster.Cluster(tuple(f"127.0.0.1:{p}" for p in ports), {"steps": 10}, 0).write(path)
    code, events = minibatch("mode=multiworker", f"cluster={path}", "worker_timeout=5")
    assert code == 1
    failed = terminal(events)
    assert isinstance(failed, ev.Failed)
    assert failed.reason.startswith("no word from the workers for 5 s (worker_timeout)")


@pytest.mark.slow
def test_placement_without_a_gpu_compares_cpu_thread_settings() -> None:
    code, events = minibatch("mode=placement", "steps=20")
    assert code == 0, terminal(events)
    assert any(
        isinstance(e, ev.Log) and e.message.startswith("no GPU: TensorFlow sees only the CPU") for e in events
    )
    table = last(events, ev.Table, "CPU threads")
    assert isinstance(table, ev.Table)
    assert table.rows[0][:2] == (1, 1) and table.rows[-1][:2] == ("auto", "auto")
    assert all(row[2] > 0 for row in table.rows)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"batch_sizes": "1,x"}, "batch_sizes: 'x' is neither a positive whole number nor full"),
        ({"mode": "mirrored", "devices": 3}, "global_batch=256 does not split evenly over 3 devices"),
        ({"mode": "multiworker", "global_batch": 5000}, "global_batch=5000 is larger than the 1438"),
        (
            {"mode": "multiworker", "cluster": "/no/cluster.json"},
            "cannot read the cluster file /no/cluster.json",
        ),
    ],
)
def test_bad_settings_are_refused_before_the_run(values: dict[str, object], message: str) -> None:
    with pytest.raises(ParamError, match=message.replace("(", r"\(")):
        build(MinibatchParams, values)


def test_the_cli_refuses_bad_settings_in_one_line() -> None:
    done = run_cli("run", "minibatch", "--headless", "--set", "batch_sizes=0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "meetup-lab: error: batch_sizes: '0' is neither a positive whole number nor full"
    ]


@pytest.mark.parametrize(
    ("content", "index", "message"),
    [
        (None, 0, "cannot read the cluster file"),
        ("not json", 0, "is not JSON"),
        ('{"worker": ["nohost"]}', 0, 'needs "worker": a list of "host:port" strings'),
        ('{"worker": ["127.0.0.1:1"]}', 1, "--index 1 is out of range"),
        ('{"worker": ["127.0.0.1:1"], "job": {"model": "resnet"}}', 0, "model='resnet' is not valid"),
    ],
)
@pytest.mark.slow
def test_meetup_lab_worker_refuses_a_bad_cluster_file(
    tmp_path: Path, content: str | None, index: int, message: str
) -> None:
    path = tmp_path / "cluster.json"
    if content is not None:
        path.write_text(content)
    done = run_cli("worker", "--cluster", str(path), "--index", str(index))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("meetup-lab: error: ") and message in line


def test_a_long_line_is_sent_thinned_to_what_a_panel_shows_keeping_its_last_point() -> None:
    curves = Curves("loss", "seconds", "loss")
    for i in range(5 * ev.MAX_POINTS + 3):
        curves.add("batch 32", float(i), 1.0 / (i + 1))
    line = curves.chart().series["batch 32"]
    assert ev.MAX_POINTS // 2 <= len(line) <= ev.MAX_POINTS + 1
    assert line[0] == (0.0, 1.0) and line[-1] == (5.0 * ev.MAX_POINTS + 2, 1.0 / (5 * ev.MAX_POINTS + 3))


def test_projection_bands_scaling_and_break_even() -> None:
    assert [projection.band(s) for s in (60, 86400, 86401, 4 * 86400 + 1, 31 * 86400)] == [
        "interactive", "interactive", "tolerable", "high-value only", "not attempted",
    ]  # fmt: skip
    # 1 ms of computation per example, a 10 ms all-reduce measured on 2 devices, batches of 100.
    measured = projection.Measured(1e-3, 0.010, 2, 100)
    assert measured.allreduce(1) == 0 and measured.allreduce(4) == pytest.approx(0.015)
    rows = projection.project(measured, examples=1e6, max_devices=8, price_per_device_hour=3.0)
    assert [r.devices for r in rows] == [1, 2, 4, 8]
    assert rows[0].seconds == pytest.approx(1e6 * 1e-3) and rows[0].speedup == 1
    assert rows[1].speedup == pytest.approx(0.1 / (0.05 + 0.01))
    assert rows[2].cost == pytest.approx(4 * rows[2].seconds / 3600 * 3.0)
    # 100 examples on n devices: computation 0.1/n s; all-reduce 0.01·(2(n-1)/n) s; it wins at n=8.
    assert measured.break_even() == 8
    assert projection.Measured(1e-3, 0.0, 2, 100).break_even() is None


@pytest.mark.slow
def test_cancelling_a_multiworker_run_stops_its_workers() -> None:
    proc = start_cli(
        "run", "minibatch", "--headless", "--json", "--device", "cpu",
        "--set", "mode=multiworker", "--set", "steps=10000000",
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seen: list[ev.Event] = []
    try:
        pids = worker_pids(proc, seen)
        proc.send_signal(signal.SIGINT)  # Ctrl+C: the headless run's cancel
        out, _ = proc.communicate(timeout=WAIT_S)
    finally:
        proc.kill()
    assert isinstance(terminal(seen + [ev.from_json(line) for line in out.splitlines()]), ev.Cancelled)
    for pid in pids.values():
        wait_until(lambda pid=pid: not alive(pid), f"worker pid {pid} to be gone")
    assert proc.returncode == 130


@pytest.mark.slow
def test_placement_puts_each_layer_where_it_is_told_and_times_every_configuration(tmp_path: Path) -> None:
    # The GPU comparison's own code, run here with the CPU standing in for the GPU:
    # this machine has none. The split configuration's layers go to the two devices named.
    import tensorflow as tf

    from labs.context import RunContext
    from labs.minibatch import placement

    assert placement.configurations(["/GPU:0"])[-1] == ("CPU:0 | GPU:0", ["/CPU:0", "/GPU:0"])
    assert [name for name, _ in placement.configurations(["/GPU:0", "/GPU:1"])] == [
        "CPU:0", "GPU:0", "GPU:1", "GPU:0 | GPU:1",
    ]  # fmt: skip
    model = placement.placed("mlp", 0.01, ["/CPU:0", "/CPU:0"])
    assert all(v.value.device.endswith("CPU:0") for v in model.trainable_variables)
    assert len(model.losses) == 2  # both kernels keep their L2 penalty
    p = build(MinibatchParams, {"mode": "placement", "steps": 4, "global_batch": 32})
    events = list(placement.compare(p, RunContext(tmp_path, 0, "cpu"), ["/CPU:0"]))
    table = last(events, ev.Table, "placement")
    assert isinstance(table, ev.Table) and [row[0] for row in table.rows] == [
        "CPU:0",
        "CPU:0",
        "CPU:0 | CPU:0",
    ]
    assert all(row[1] > 0 and row[4] is None for row in table.rows)  # no GPU, no copy to time
    chart = last(events, ev.Chart, "loss vs step")
    assert isinstance(chart, ev.Chart)
    split = [loss for _, loss in chart.series["CPU:0 | CPU:0"]]
    first = [loss for _, loss in chart.series["CPU:0"]][: len(split)]  # (the stand-in "GPU" adds its own)
    np.testing.assert_allclose(split, first, rtol=1e-5)  # the same weights train the same way
    assert tf.config.list_logical_devices("GPU") == []


def test_a_cluster_files_job_that_does_not_split_is_refused_before_the_run(tmp_path: Path) -> None:
    path = tmp_path / "cluster.json"
    cluster.Cluster(("127.0.0.1:1", "127.0.0.1:2"), {"global_batch": 63}, 0).write(path)
    done = run_cli("run", "minibatch", "--headless", "--set", "mode=multiworker", "--set", f"cluster={path}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"meetup-lab: error: the cluster file {path}'s job: global_batch=63 does not split evenly over "
        "2 workers: use a multiple of 2"
    ]
