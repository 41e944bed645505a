"""The ``meetup-lab`` command line (Typer).

Importing this module must stay cheap, since ``--help`` does nothing else:
the engine (NumPy, psutil) is imported by the commands that use it, Textual
when the TUI opens, and TensorFlow only in a run's own process.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from labs import paths
from labs.commands import COMMANDS_GROUP, EXIT_FAILED, EXIT_USAGE, RUNS_DIR, CommandError, LabCommand

if TYPE_CHECKING:
    from labs.recording import RunRecord
    from labs.registry import Lab
    from labs.runner import Run, RunRequest
    from tui.headless import Outcome

EXIT_CANCELLED = 130
# A viewer ended by a signal exits 128 + its number, as shells do.
EXIT_HANGUP, EXIT_BROKEN_PIPE, EXIT_TERMINATED = 129, 141, 143
STOP_WAIT_S = 30.0
RUNS_LISTED = 100  # ended runs `runs` lists unless told otherwise


class Commands(TyperGroup):
    """The CLI's own commands, and those the labs add (:mod:`labs.commands`). Those are
    looked up only when a name is not one of the CLI's own or every command is listed
    (``--help``): ``run`` and the rest start without looking."""

    _labs_added = False

    def _add_labs(self) -> None:
        if not self._labs_added:  # click lists the commands more than once per --help
            _add_lab_commands(self)
            self._labs_added = True

    # Typer's own click (vendored) types these: Any stands for its Context and Command.
    def list_commands(self, ctx: Any) -> list[str]:
        self._add_labs()
        return super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if (command := super().get_command(ctx, cmd_name)) is not None:
            return command
        self._add_labs()
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=Commands,
    help="A terminal lab console for offline TensorFlow experiments.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)

RunsDir = Annotated[Path | None, typer.Option(RUNS_DIR.flag, help=RUNS_DIR.help)]


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
    import os

    if not (os.isatty(0) and os.isatty(1)):  # else Textual would wait on a pipe for keys (or crash)
        fail("the console needs a terminal; without one, use `run LAB --headless` or `show RUN --headless`")
    # A lone ESC is Escape only once this long has passed with nothing after it (it may begin an
    # arrow's sequence). Textual waits 100 ms; 50 ms is Neovim's wait, and a terminal writes a
    # key's whole sequence at once, so a slow link does not split it. Set before Textual loads.
    os.environ.setdefault("ESCDELAY", "50")
    from tui.app import make_app

    make_app(runs_dir=paths.runs_dir(runs_dir), start=start, replay=replay).run()


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context, runs_dir: RunsDir = None) -> None:
    """Open the lab console (the TUI) when no command is given."""
    if ctx.invoked_subcommand is None:
        _open_tui(runs_dir)


@app.command("list")
def list_labs() -> None:
    """List the labs: the built-in ones and those of installed lab packages."""
    from labs.registry import NO_LABS, installed

    found = installed()
    if not found.labs:
        fail(NO_LABS, EXIT_FAILED)
    for lab in found.labs.values():
        typer.echo(f"{lab.name:<12} {lab.summary}")
    for error in found.errors.values():  # the labs that load are listed all the same
        typer.echo(f"meetup-lab: warning: {error}", err=True)


@app.command()
def params(lab: Annotated[str, typer.Argument(help="The lab's name.")]) -> None:
    """List a lab's parameters with their defaults and valid values."""
    specs = _lab(lab).specs
    width = max([10, *(len(spec.default_text) for spec in specs)])
    names = max([14, *(len(spec.name) for spec in specs)])  # the longest name sets the columns
    for spec in specs:
        default = f"default {spec.default_text:<{width}}"
        typer.echo(f"{spec.name:<{names}} {spec.type_name:<7} {default} {spec.allowed}")
        typer.echo(f"{'':<{names}} {spec.help}")


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
    headless: Annotated[bool, typer.Option(help="Run without the TUI, in this terminal.")] = False,
    detach: Annotated[
        bool, typer.Option(help="Start the run in the background, print its id and folder, return.")
    ] = False,
    json_: Annotated[
        bool, typer.Option("--json", help="With --headless: one JSON object per event line.")
    ] = False,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            help="Sweep a parameter: NAME=V1,V2,... (a list value in brackets: NAME=[1,2],[3]); "
            "repeat for a grid. The runs start in the background and queue for their device."
        ),
    ] = None,
    seeds: Annotated[int, typer.Option(help="With --sweep: each setting with this many seeds.")] = 1,
) -> None:
    """Run a lab: in the TUI, with --headless in this terminal, or --detach in the background."""
    from labs.devices import check_device
    from labs.params import ParamError, check_seed, parse_assignments
    from labs.runner import RunRequest

    the_lab = _lab(lab)
    try:
        assignments = parse_assignments(set_ or [])
        values = the_lab.build_params(assignments)
        device = check_device(device)
        seed = check_seed(seed)
    except (ParamError, ValueError) as exc:
        fail(str(exc))
    if json_ and not headless:
        fail("--json goes with --headless")
    if detach and headless:
        fail("--detach and --headless are two ways to run: choose one")
    folder = paths.runs_dir(runs_dir)
    if sweep or seeds != 1:
        if json_:
            fail("--json follows one run: a sweep's runs are followed with attach, compared with compare")
        _sweep(the_lab, lab, assignments, sweep or [], seeds, device, seed, folder, headless)
        return
    request = RunRequest(the_lab, values, device, seed, lab)
    try:
        request.check(folder)
    except ParamError as exc:
        fail(str(exc))
    if not (headless or detach):
        _open_tui(runs_dir, start=request)
        return
    try:
        the_run = request.start(folder)
    except OSError as exc:
        fail(f"cannot record the run in {folder}: {exc.strerror or exc}")
    if detach:
        typer.echo(the_run.run_id)
        typer.echo(the_run.record.path)
        typer.echo(
            f"follow it: meetup-lab attach {the_run.run_id}; stop it: meetup-lab stop {the_run.run_id}",
            err=True,
        )
        return
    _view(the_run, "json" if json_ else "auto", foreground=True)


def _sweep(
    the_lab: Lab,
    lab_ref: str,
    assignments: dict[str, str],
    axes_text: list[str],
    seeds: int,
    device: str,
    base_seed: int,
    folder: Path,
    wait: bool,
) -> None:
    """Start every run of a sweep, each checked first: one bad setting refuses them all."""
    from labs.params import ParamError
    from labs.runner import RunRequest
    from labs.sweep import grid, parse_axis, sweep_id

    try:
        axes = [parse_axis(text) for text in axes_text]
        for axis in axes:
            if axis.name in assignments:
                raise ParamError(f"{axis.name} is given by --set and swept by --sweep: choose one")
        settings = grid(axes, seeds, base_seed)
    except ParamError as exc:
        fail(str(exc))
    the_id = sweep_id(the_lab.name)
    requests = []
    for values, seed in settings:
        where = ", ".join(f"{k}={v}" for k, v in values.items()) or f"seed {seed}"
        try:
            request = RunRequest(
                the_lab, the_lab.build_params({**assignments, **values}), device, seed, lab_ref, the_id
            )
            request.check(folder)
        except ParamError as exc:
            fail(f"the sweep's run {where}: {exc}; no run was started")
        requests.append(request)
    started = []
    try:
        for request in requests:
            started.append(request.start(folder))
    except OSError as exc:
        fail(f"cannot record the sweep's runs in {folder}: {exc.strerror or exc}")
    typer.echo(the_id)
    for the_run in started:
        typer.echo(the_run.run_id)
    typer.echo(
        f"{len(started)} runs started, each in line for device {device}; follow one with "
        f"meetup-lab attach RUN, compare them with meetup-lab compare --sweep {the_id}",
        err=True,
    )
    if wait:
        _wait_for(started, the_id, folder)


def _wait_for(started: list[Run], the_id: str, folder: Path) -> NoReturn:
    """Wait for every run of a sweep, a line for each as it ends; Ctrl+C cancels those left."""
    done: set[str] = set()
    try:
        while len(done) < len(started):
            for the_run in started:
                if the_run.run_id not in done and not the_run.record.live():
                    done.add(the_run.run_id)
                    typer.echo(f"{the_run.run_id}: {the_run.record.info().status}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        from labs.control import NotLive

        for the_run in started:
            try:
                the_run.cancel()
            except NotLive:
                pass
        typer.echo(f"meetup-lab: cancelled the sweep's runs left ({the_id})", err=True)
        raise typer.Exit(EXIT_CANCELLED) from None
    from labs.compare import compare, select
    from tui.compare_table import render

    typer.echo(render(compare(select(folder, [], sweep=the_id)), "text"), nl=False)
    statuses = {the_run.record.status() for the_run in started}
    raise typer.Exit(0 if statuses == {"finished"} else EXIT_FAILED)


def _view(the_run: Run, mode: str, foreground: bool) -> NoReturn:
    """Follow a run in this terminal and exit with a code for how the viewing ended."""
    import signal

    from tui.headless import DETACHED, follow

    outcome: Outcome = follow(the_run, mode=mode, foreground=foreground)
    if outcome.status == DETACHED:
        hint = f"run {the_run.run_id} goes on: meetup-lab attach {the_run.run_id}"
        if outcome.signal == signal.SIGHUP:
            _quiet_exit(EXIT_HANGUP)
        if outcome.signal is None:  # our output was closed under us
            typer.echo(f"meetup-lab: output closed; {hint}", err=True)
            _quiet_exit(EXIT_BROKEN_PIPE)
        typer.echo(f"detached; {hint}", err=True)
        raise typer.Exit(EXIT_TERMINATED if outcome.signal == signal.SIGTERM else 0)
    if outcome.signal == signal.SIGTERM:
        typer.echo(f"meetup-lab: terminated: run {the_run.run_id} was {outcome.status}", err=True)
        raise typer.Exit(EXIT_TERMINATED)
    raise typer.Exit({"finished": 0, "cancelled": EXIT_CANCELLED}.get(outcome.status, EXIT_FAILED))


def _quiet_exit(code: int) -> NoReturn:
    """Exit without Python's complaint about flushing a closed stdout at shutdown."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    raise typer.Exit(code)


def _find(ref: str, runs_dir: Path | None) -> Run:
    from labs.runner import Run

    try:
        return Run.find(paths.runs_dir(runs_dir), ref)
    except LookupError as exc:
        fail(str(exc))


RunRef = Annotated[str, typer.Argument(metavar="RUN", help="Run id, unique prefix or `last`.")]


@app.command()
def attach(
    run_ref: RunRef,
    runs_dir: RunsDir = None,
    json_: Annotated[bool, typer.Option("--json", help="One JSON object per event line.")] = False,
) -> None:
    """Follow a live run here (Ctrl+C detaches, the run goes on), or replay an ended one."""
    _view(_find(run_ref, runs_dir), "json" if json_ else "auto", foreground=False)


@app.command()
def stop(run_ref: RunRef, runs_dir: RunsDir = None) -> None:
    """Cancel a live run and wait for its verdict."""
    from labs.control import NotLive

    the_run = _find(run_ref, runs_dir)
    try:
        the_run.cancel()
    except NotLive:
        fail(f"run {the_run.run_id} is not live: it is {the_run.record.status()}")
    if not the_run.wait(STOP_WAIT_S):
        fail(f"run {the_run.run_id} did not stop within {STOP_WAIT_S:.0f} s", EXIT_FAILED)
    typer.echo(f"run {the_run.run_id}: {the_run.record.status()}")


@app.command()
def compare(
    run_refs: Annotated[
        list[str] | None, typer.Argument(metavar="[RUN]...", help="Runs to compare (ids or prefixes).")
    ] = None,
    sweep: Annotated[str | None, typer.Option(help="The runs of this sweep.")] = None,
    last: Annotated[int | None, typer.Option(help="The last N runs (10 unless runs are named).")] = None,
    lab: Annotated[str | None, typer.Option(help="With --last: only this lab's runs.")] = None,
    metric: Annotated[str | None, typer.Option(help="The metric compared (default: the key metric).")] = None,
    sort: Annotated[str | None, typer.Option(help="Sort by a column: final, best, a parameter, ...")] = None,
    csv_: Annotated[bool, typer.Option("--csv", help="CSV, one row a setting.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="JSON, a list of settings.")] = False,
    runs_dir: RunsDir = None,
) -> None:
    """Compare runs: the parameters that differ, each run's final and best metric (mean ± std over seeds)."""
    from labs.compare import compare as comparison
    from labs.compare import select

    if sum(map(bool, (run_refs, sweep, last))) > 1:
        fail("compare named runs, --sweep ID or --last N: one of them")
    if last is not None and last < 1:
        fail(f"--last {last}: at least 1")
    if csv_ and json_:
        fail("--csv or --json: one of them")
    try:
        table = comparison(select(paths.runs_dir(runs_dir), run_refs or [], sweep, last, lab), metric)
        if sort is not None:
            table = table.sorted_by(sort)
    except (LookupError, ValueError) as exc:
        fail(str(exc).strip("'\""))
    from tui.compare_table import render

    typer.echo(render(table, "csv" if csv_ else "json" if json_ else "text"), nl=False)


@app.command()
def label(
    run_ref: RunRef,
    text: Annotated[str, typer.Argument(help='The label; an empty one ("") takes it off.')],
    runs_dir: RunsDir = None,
) -> None:
    """Label a run: the label shows in every list of runs."""
    from labs.recording import find_run

    try:
        record = find_run(paths.runs_dir(runs_dir), run_ref)
        record.set_label(text)
    except LookupError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot label run {run_ref}: {exc.strerror or exc}")
    typer.echo(f"run {record.run_id}: " + (f"labelled {record.label!r}" if record.label else "no label"))


@app.command()
def delete(
    run_refs: Annotated[
        list[str], typer.Argument(metavar="RUN...", help="Runs to delete (ids or prefixes).")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    runs_dir: RunsDir = None,
) -> None:
    """Delete recorded runs and their folders; a live run is refused (stop it first)."""
    import shutil

    from labs.recording import find_run

    try:
        records = list(
            {r.path: r for r in (find_run(paths.runs_dir(runs_dir), ref) for ref in run_refs)}.values()
        )
    except LookupError as exc:
        fail(str(exc))
    live = [r.run_id for r in records if r.live()]
    if live:
        fail(
            f"{', '.join(live)} {'is' if len(live) == 1 else 'are'} live: stop it first (meetup-lab stop RUN)"
        )
    names = ", ".join(r.run_id for r in records)
    if not yes:
        try:
            sure = typer.confirm(f"delete {len(records)} run(s): {names}?", default=False)
        except typer.Abort:  # no answer: the end of its input, or Ctrl+C
            sure = False
        if not sure:
            fail("nothing deleted (--yes deletes without asking)", EXIT_FAILED)
    for record in records:
        try:
            shutil.rmtree(record.path)
        except OSError as exc:
            fail(f"cannot delete {record.run_id}: {exc.strerror or exc}", EXIT_FAILED)
        typer.echo(f"deleted {record.run_id}")


@app.command()
def front(run_ref: RunRef, runs_dir: RunsDir = None) -> None:
    """Move a queued run to the front of the line for its devices."""
    the_run = _find(run_ref, runs_dir)
    if not the_run.front():
        fail(f"run {the_run.run_id} is not queued: it is {the_run.record.status()}")
    typer.echo(f"run {the_run.run_id}: next to start on its devices")


@app.command()
def runs(
    runs_dir: RunsDir = None,
    last: Annotated[int, typer.Option(help="How many ended runs to list, newest first.")] = RUNS_LISTED,
    all_: Annotated[bool, typer.Option("--all", help="List every run.")] = False,
) -> None:
    """List runs, live ones first with their progress, then the others newest first."""
    from labs.board import Board
    from tui.clock import clock

    if last < 1:
        fail(f"--last {last}: at least 1")
    folder = paths.runs_dir(runs_dir)
    board = Board(folder)
    rows = board.rows(None if all_ else last)
    if not rows:
        typer.echo(f"no runs recorded in {folder}")
        return
    lab_width = max(len(row.lab) for row in rows)
    typer.echo(
        f"{'RUN':<30} {'LAB':<{lab_width}} {'STATUS':<12} {'STARTED':<20} {'TIME':>8} "
        f"{'PROGRESS':<18} {'ETA':>7}  KEY METRIC"
    )
    for row in rows:
        if row.elapsed is None:
            elapsed = "-"
        else:
            elapsed = clock(row.elapsed) if row.live else f"{row.elapsed:.1f}s"
        eta = clock(row.eta) if row.eta is not None else "-"
        about = "  ".join(part for part in (f"[{row.label}]" if row.label else "", row.changed) if part)
        typer.echo(
            f"{row.run_id:<30} {row.lab:<{lab_width}} {row.status:<12} {row.started:<20} "
            f"{elapsed:>8} {row.progress_text:<18} {eta:>7}  {row.key_metric}"
            + (f"  {about}" if about else "")
        )
    if board.total > len(rows):
        typer.echo(f"... and {board.total - len(rows)} older runs: --all lists every one")


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


def _add_lab_commands(group: TyperGroup) -> None:
    """The labs' commands (the ``meetup_lab.commands`` entry points), as ``group``'s."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=COMMANDS_GROUP):
        if entry.name in group.commands:
            continue
        try:
            command = entry.load()
        except Exception as exc:  # a user's package may raise anything: say so, the rest still work
            typer.echo(f"meetup-lab: warning: command {entry.name!r} ({entry.value}): {exc}", err=True)
            continue
        group.add_command(_lab_command(command), entry.name)


def _lab_command(command: LabCommand) -> Any:
    """A Typer command made from a lab's declaration: its arguments become the function's."""

    def invoke(**values: Any) -> None:
        from labs.registry import resolve

        try:
            code = resolve(command.run)(**values)
        except CommandError as exc:
            fail(str(exc), exc.code)
        if code:
            raise typer.Exit(code)

    parameters = []
    for arg in command.args:
        if arg.flag is None and arg.required:
            info: Any = typer.Argument(help=arg.help)
        else:
            info = typer.Option(arg.flag or f"--{arg.name.replace('_', '-')}", help=arg.help)
        kind = arg.type if arg.required else arg.type | None
        default = inspect.Parameter.empty if arg.required else arg.default
        parameters.append(
            inspect.Parameter(
                arg.name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[kind, info], default=default
            )
        )
    invoke.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    one = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    one.command(command.name, help=command.help)(invoke)
    return typer.main.get_command(one)


def main() -> None:
    app()
