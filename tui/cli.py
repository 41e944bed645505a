"""The ``meetup-lab`` command line (Typer).

Importing this module must stay cheap, since ``--help`` does nothing else:
the engine (NumPy, psutil) is imported by the commands that use it, Textual
when the TUI opens, and TensorFlow only in a run's own process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from labs import paths

if TYPE_CHECKING:
    from labs.recording import RunRecord
    from labs.registry import Lab
    from labs.runner import RunRequest

EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 1, 2, 130

app = typer.Typer(
    help="A terminal lab console for offline TensorFlow experiments.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)

RunsDir = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir",
        help=f"Where runs are recorded (default: ${paths.RUNS_DIR_ENV}, else the XDG data folder).",
    ),
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One clear line on stderr and an exit code; never a traceback."""
    typer.echo(f"meetup-lab: error: {message}", err=True)
    raise typer.Exit(code)


def _lab(name: str) -> Lab:
    from labs.registry import get_lab

    try:
        return get_lab(name)
    except LookupError as exc:
        fail(str(exc))


def _open_tui(
    runs_dir: Path | None, start: RunRequest | None = None, replay: RunRecord | None = None
) -> None:
    from tui.app import make_app

    make_app(runs_dir=paths.runs_dir(runs_dir), start=start, replay=replay).run()


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context, runs_dir: RunsDir = None) -> None:
    """Open the lab console (the TUI) when no command is given."""
    if ctx.invoked_subcommand is None:
        _open_tui(runs_dir)


@app.command("list")
def list_labs() -> None:
    """List the labs."""
    from labs.registry import all_labs

    for lab in all_labs().values():
        typer.echo(f"{lab.name:<12} {lab.summary}")


@app.command()
def params(lab: Annotated[str, typer.Argument(help="The lab's name.")]) -> None:
    """List a lab's parameters with their defaults and valid values."""
    specs = _lab(lab).specs
    width = max([10, *(len(spec.default_text) for spec in specs)])
    for spec in specs:
        typer.echo(f"{spec.name:<14} {spec.type_name:<7} default {spec.default_text:<{width}} {spec.allowed}")
        typer.echo(f"{'':<14} {spec.help}")


@app.command()
def run(
    lab: Annotated[str, typer.Argument(help="The lab's name (see `meetup-lab list`).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A parameter as name=value; repeat for more."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, gpu or gpu:N.")] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    runs_dir: RunsDir = None,
    headless: Annotated[bool, typer.Option(help="Run without the TUI.")] = False,
    json_: Annotated[
        bool, typer.Option("--json", help="With --headless: one JSON object per event line.")
    ] = False,
) -> None:
    """Run a lab: in the TUI, or with --headless in this terminal."""
    from labs.devices import check_device
    from labs.params import ParamError, check_seed, parse_assignments
    from labs.runner import RunRequest

    the_lab = _lab(lab)
    try:
        values = the_lab.build_params(parse_assignments(set_ or []))
        device = check_device(device)
        seed = check_seed(seed)
    except (ParamError, ValueError) as exc:
        fail(str(exc))
    if json_ and not headless:
        fail("--json goes with --headless")
    folder = paths.runs_dir(runs_dir)
    request = RunRequest(the_lab, values, device, seed, lab)
    if not headless:
        _open_tui(runs_dir, start=request)
        return
    from tui.headless import follow

    try:
        the_run = request.start(folder)
    except OSError as exc:
        fail(f"cannot record the run in {folder}: {exc.strerror or exc}")
    status = follow(the_run, mode="json" if json_ else "auto")
    raise typer.Exit({"finished": 0, "cancelled": EXIT_CANCELLED}.get(status, EXIT_FAILED))


@app.command()
def runs(runs_dir: RunsDir = None) -> None:
    """List recorded runs, newest first."""
    from labs.recording import list_runs

    folder = paths.runs_dir(runs_dir)
    infos = list_runs(folder)
    if not infos:
        typer.echo(f"no runs recorded in {folder}")
        return
    lab_width = max(len(info.lab) for info in infos)
    typer.echo(f"{'RUN':<30} {'LAB':<{lab_width}} {'STATUS':<12} {'STARTED':<20} {'TIME':>8}  KEY METRIC")
    for info in infos:
        duration = f"{info.duration:.1f}s" if info.duration is not None else "-"
        typer.echo(
            f"{info.run_id:<30} {info.lab:<{lab_width}} {info.status:<12} {info.started:<20} "
            f"{duration:>8}  {info.key_metric}"
        )


@app.command()
def show(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, unique prefix or `last`.")],
    runs_dir: RunsDir = None,
    headless: Annotated[bool, typer.Option(help="Print the summary instead of opening the TUI.")] = False,
) -> None:
    """Open a recorded run in the TUI, or print its summary with --headless."""
    from labs.recording import find_run

    try:
        record = find_run(paths.runs_dir(runs_dir), run_ref)
    except LookupError as exc:
        fail(str(exc))
    if headless:
        from tui.headless import print_summary

        print_summary(record)
        return
    _open_tui(runs_dir, replay=record)


@app.command()
def predict(
    model: Annotated[str, typer.Argument(help="A glasses run (id, prefix or `last`) or a .keras file.")],
    folder: Annotated[Path, typer.Argument(help="A folder of images to label.")],
    runs_dir: RunsDir = None,
) -> None:
    """Label a folder of images as glasses / no_glasses with a trained glasses model."""
    from labs.glasses.predict import label_folder, model_file
    from labs.recording import find_run

    if not folder.is_dir():
        fail(f"{folder}: no such folder")
    try:
        path = (
            Path(model)
            if model.endswith(".keras")
            else model_file(find_run(paths.runs_dir(runs_dir), model).path)
        )
    except LookupError as exc:
        fail(str(exc))
    if not path.is_file():
        fail(f"{path}: no such model file")
    labelled = skipped = 0
    for prediction in label_folder(path, folder):
        if prediction.label is None:
            skipped += 1
            typer.echo(f"{prediction.path}\tunreadable", err=True)
            continue
        labelled += 1
        typer.echo(f"{prediction.path}\t{prediction.label}\t{prediction.confidence:.3f}")
    typer.echo(f"{labelled} images labelled, {skipped} skipped", err=True)
    if not labelled:
        raise typer.Exit(1)


@app.command()
def worker(
    cluster: Annotated[Path, typer.Option(help="The cluster file: workers' host:port, the job, the seed.")],
    index: Annotated[int, typer.Option(help="This worker's place in the file's worker list, from 0.")],
) -> None:
    """Start one worker of a minibatch multiworker run; start one on each host of the cluster file."""
    import os
    import sys

    from labs.minibatch import cluster as cluster_mod
    from labs.minibatch.lab import MinibatchParams
    from labs.minibatch.worker import serve
    from labs.params import ParamError

    try:
        spec = cluster_mod.read(cluster)
        MinibatchParams.for_job(spec.job, "multiworker", len(spec.workers))
    except (ValueError, ParamError) as exc:
        fail(str(exc))
    if not 0 <= index < len(spec.workers):
        fail(f"--index {index} is out of range: {cluster} names workers 0 to {len(spec.workers) - 1}")
    typer.echo(
        f"worker {index} of {len(spec.workers)} at {spec.workers[index]}: joining the others", err=True
    )
    code = 0
    try:
        serve(spec, index, sys.stdout)
        typer.echo(f"worker {index}: done", err=True)
    except Exception as exc:  # TensorFlow's errors run to pages: its first line says what happened
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        typer.echo(f"meetup-lab: error: worker {index} stopped: {first}", err=True)
        code = EXIT_FAILED
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip TensorFlow's teardown, which can hang once the other workers are gone


def main() -> None:
    app()
