"""The real Textual app driven by keys through Pilot, with real runs behind it."""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.styled import Styled
from rich.table import Table
from textual.binding import Binding
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, RichLog, Select, Static
from textual.widgets._footer import FooterKey

from labs import events as ev
from labs.recording import RunRecord, list_runs
from labs.registry import get_lab
from labs.runner import Run, RunRequest
from tests.recorded import (
    RUN_ID,
    make_recorded_comparison,
    make_recorded_log,
    make_recorded_placement,
    make_recorded_playground,
    make_recorded_run,
    make_recorded_sweep,
)
from tests.support import REPO, read_png
from themes.colormaps import COLORMAPS
from tui import keys
from tui.app import MeetupLabApp, make_app
from tui.screens.choice import ChoiceScreen
from tui.screens.compare import CompareScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen, KeptLines
from tui.screens.menu import MenuScreen
from tui.screens.run import RunScreen
from tui.screens.runs import RunsScreen
from tui.widgets.footer import Footer
from tui.widgets.heatmap import Heatmap
from tui.widgets.lab_list import LabList
from tui.widgets.metric_charts import MetricCharts
from tui.widgets.metrics_panel import MetricsPanel
from tui.widgets.param_field import ParamField
from tui.widgets.run_status import RunStatus
from tui.widgets.views import LineChart, ResultTable

SIZE = (100, 32)
# A process that holds a run's lock, as a run's own does until it exits.
HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(600)
"""


def _app(tmp_path: Path) -> MeetupLabApp:
    return make_app(runs_dir=tmp_path / "runs", config_path=tmp_path / "config.json")


def _app_running(tmp_path: Path, lab: str, values: dict[str, str]) -> MeetupLabApp:
    """The app opened on a run of ``lab`` with these parameters, on the CPU."""
    the_lab = get_lab(lab)
    request = RunRequest(the_lab, the_lab.build_params(values), "cpu", 0)
    return make_app(runs_dir=tmp_path / "runs", start=request, config_path=tmp_path / "config.json")


async def _wait_for(pilot: Pilot, condition: Callable[[], bool], what: str, limit_s: float = 90) -> None:
    """Let the app run until ``condition`` holds; bounded so a hang fails instead of blocking."""
    for _ in range(int(limit_s / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"gave up waiting for {what}")


async def _set_field(pilot: Pilot, name: str, text: str) -> None:
    """Click into the field, clear it and type, as a user would."""
    field = pilot.app.screen.query_one(f"#param-{name}", ParamField)
    box = field.query_one(Input)
    await pilot.click(box)
    await pilot.press("end", *["backspace"] * len(box.value), *text)
    await pilot.pause()
    assert box.value == text


@asynccontextmanager
async def _replay(tmp_path: Path, record: RunRecord, size: tuple[int, int] = SIZE) -> AsyncIterator[Pilot]:
    """The app opened on a recorded run, once the replay has ended."""
    app = make_app(tmp_path / "runs", replay=record, config_path=tmp_path / "config.json")
    async with app.run_test(size=size) as pilot:
        await pilot.app.workers.wait_for_complete()
        await _wait_for(pilot, lambda: pilot.app.screen.ended, "the replay")
        # The last paint asks for a layout, done on the screen's next refresh: sizes are read after it.
        await pilot.app.screen.wait_for_refresh()
        await pilot.pause()
        yield pilot


async def _open_pde_form(pilot: Pilot) -> FormScreen:
    assert isinstance(pilot.app.screen, MenuScreen)
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, FormScreen) and screen.lab.name == "pde"
    return screen


async def _run_pde_until_first_metric(pilot: Pilot, grid: str, steps: str) -> RunScreen:
    """From the menu: open the pde form, set grid and steps, run, wait for a metric."""
    await _open_pde_form(pilot)
    await _set_field(pilot, "grid", grid)
    await _set_field(pilot, "steps", steps)
    await pilot.press("ctrl+r")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, RunScreen)
    status = screen.query_one(RunStatus)
    await _wait_for(pilot, lambda: status.step > 0, "the first metric")
    return screen


@pytest.mark.slow
async def test_choose_lab_change_parameter_run_and_see_metrics(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        screen = await _run_pde_until_first_metric(pilot, grid="32", steps="400")
        status = screen.query_one(RunStatus)
        await _wait_for(pilot, lambda: screen.ended, "the end of the run")
        assert status.status == "finished"
        assert status.step == 400
        assert screen.query_one(Heatmap).data is not None
        (info,) = list_runs(tmp_path / "runs")
        assert info.status == "finished"
        assert json.loads((info.path / "params.json").read_text())["params"]["grid"] == 32


@pytest.mark.slow
async def test_escape_leaves_a_run_going_and_the_board_reattaches_and_cancels_it(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        screen = await _run_pde_until_first_metric(pilot, grid="64", steps="10000000")
        await pilot.press("escape")  # back to the form; the run goes on
        assert isinstance(pilot.app.screen, FormScreen)
        (info,) = list_runs(tmp_path / "runs")
        assert info.status == "running"
        await pilot.press("ctrl+r")  # a second run beside it
        second = pilot.app.screen
        assert isinstance(second, RunScreen) and second is not screen
        await _wait_for(pilot, lambda: second.query_one(RunStatus).step > 0, "the second run computing")
        await pilot.press("escape", "escape", "h")
        board = pilot.app.screen
        assert isinstance(board, RunsScreen)
        table = board.query_one(DataTable)
        assert [table.get_row_at(i)[2] for i in range(2)] == ["running", "running"]
        assert table.get_row_at(1)[:2] == [info.run_id, "pde"]  # newest first
        await pilot.press("down")
        first = str(table.get_row_at(1)[5])  # its progress

        # The board follows the run as it goes: its progress cell changes by itself.
        await _wait_for(pilot, lambda: str(table.get_row_at(1)[5]) != first, "the board to move")
        await pilot.press("enter")  # attach
        attached = pilot.app.screen
        assert isinstance(attached, RunScreen) and attached is not screen
        status = attached.query_one(RunStatus)
        await _wait_for(pilot, lambda: status.status == "running" and status.step > 0, "the live run")
        await pilot.press("escape")
        assert pilot.app.screen is board

        await pilot.press("c")  # cancel asks first; Escape keeps it
        assert isinstance(pilot.app.screen, ChoiceScreen)
        await pilot.press("escape")
        assert pilot.app.screen is board and Run(RunRecord(info.path)).live()
        await pilot.press("c", "tab", "enter")  # "Cancel the run"
        await _wait_for(pilot, lambda: RunRecord(info.path).status() == "cancelled", "the cancel")
        await _wait_for(pilot, lambda: table.get_row_at(1)[2] == "cancelled", "the board to say so")
        assert table.get_row_at(0)[2] == "running"  # the other run goes on
        # The footer follows the chosen run: an ended one cannot be cancelled, a live one can.
        await _wait_for(pilot, lambda: "Cancel" not in offered(board), "the board's keys for an ended run")
        await pilot.press("up")
        assert table.cursor_row == 0 and "Cancel" in offered(board)


@pytest.mark.slow
async def test_cancel_a_running_run(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        screen = await _run_pde_until_first_metric(pilot, grid="64", steps="10000000")
        status = screen.query_one(RunStatus)
        await pilot.press("c")
        await _wait_for(pilot, lambda: screen.ended, "the cancelled run to end")
        assert status.status == "cancelled"
        (info,) = list_runs(tmp_path / "runs")
        assert info.status == "cancelled"
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, FormScreen)


@pytest.mark.slow
async def test_bad_input_is_refused_with_a_message(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        form = await _open_pde_form(pilot)
        await _set_field(pilot, "grid", "abc")
        field = form.query_one("#param-grid", ParamField)
        assert field.has_class("-invalid")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert pilot.app.screen is form
        assert "grid='abc' is not valid" in str(form.query_one("#form-error", Label).content)
        # Each field is valid alone, together they are not: the stable time step is named.
        await _set_field(pilot, "grid", "32")
        await _set_field(pilot, "dt", "0.3")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert pilot.app.screen is form
        assert "largest stable dt" in str(form.query_one("#form-error", Label).content)
        assert list_runs(tmp_path / "runs") == []


@pytest.mark.slow
async def test_open_a_recorded_run_from_history(tmp_path: Path) -> None:
    make_recorded_run(tmp_path / "runs")
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await pilot.pause()
        history = pilot.app.screen
        assert isinstance(history, RunsScreen)
        table = history.query_one(DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[0] == RUN_ID
        await pilot.press("enter")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        await pilot.app.workers.wait_for_complete()
        await _wait_for(pilot, lambda: screen.ended, "the replay to end")
        status = screen.query_one(RunStatus)
        assert (status.status, status.step) == ("finished", 400)
        assert screen.query_one(MetricsPanel).values["mass"] == 97.0
        await pilot.press("escape")
        assert pilot.app.screen is history


@pytest.mark.slow
async def test_snapshot_key_saves_the_heatmap_png(tmp_path: Path) -> None:
    record = make_recorded_run(tmp_path / "runs")
    async with _replay(tmp_path, record) as pilot:
        await pilot.press("s")
        png = record.path / "artifacts" / "snapshot-u-400.png"
        assert png.read_bytes().startswith(b"\x89PNG")
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen) and screen.frame is not None
        heatmap = screen.query_one(Heatmap)
        data = screen.frame.data
        picture = read_png(png)
        scale = picture.shape[1] // data.shape[1]
        assert max(picture.shape[:2]) >= 640 and picture.shape[1] == scale * data.shape[1]  # worth keeping
        vmin, vmax = heatmap.value_range()
        colours = COLORMAPS[heatmap.cmap]
        # Each cell a block of pixels, in the colour the screen gives it; the colour bar below.
        hottest = np.unravel_index(np.argmax(data), data.shape)
        assert (picture[hottest[0] * scale, hottest[1] * scale] == colours[-1]).all()
        bar = picture[data.shape[0] * scale + 8]
        assert (bar[0] == colours[0]).all() and (bar[-1] == colours[-1]).all()
        default = heatmap.cmap
        await pilot.press("m", "v", "v", "s")  # another colour map, the symmetric range: as shown
        assert heatmap.cmap != default and heatmap.range_mode == "symmetric"
        again = read_png(png)
        assert (again[: data.shape[0] * scale] != picture[: data.shape[0] * scale]).any()
        assert (again[data.shape[0] * scale + 8][-1] == COLORMAPS[heatmap.cmap][-1]).all()


async def test_theme_key_cycles_and_is_remembered(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        assert pilot.app.theme == "meetup-dark"
        await pilot.press("t")
        assert pilot.app.theme == "meetup-light"
    assert json.loads((tmp_path / "config.json").read_text())["theme"] == "meetup-light"
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        assert pilot.app.theme == "meetup-light"


async def test_a_new_theme_reaches_each_screen_as_it_is_seen(tmp_path: Path) -> None:
    """`t` restyles the screen on view and one seen through the help at once, a screen below
    them as it is shown again; a theme chosen again (its stylesheet parsed before) looks as
    it did."""
    record = make_recorded_run(tmp_path / "runs")
    app = make_app(tmp_path / "runs", replay=record, config_path=tmp_path / "config.json")
    async with app.run_test(size=SIZE) as pilot:

        def stale(screen: Screen[Any]) -> bool:
            """Whether a restyle of the screen with the stylesheet as it is now changes it."""
            before = screen.styles.background
            app.stylesheet.update(screen)
            return screen.styles.background != before

        run, menu = app.screen, app.screen_stack[-2]
        assert isinstance(run, RunScreen) and isinstance(menu, MenuScreen)
        dark = run.styles.background
        await pilot.press("t")
        await pilot.pause()
        assert app.theme == "meetup-light" and not stale(run)
        light = run.styles.background
        assert light != dark
        await pilot.press("question_mark", "t")  # the run screen, seen through the help
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.theme == "meetup-contrast"
        assert not stale(run) and run.styles.background not in (dark, light)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.screen is menu and not stale(menu)
        await pilot.press("t", "t")  # dark, then light again: its stylesheet as parsed before
        await pilot.pause()
        assert app.theme == "meetup-light" and not stale(menu) and menu.styles.background == light


async def test_a_new_theme_refreshes_each_widget_once(tmp_path: Path) -> None:
    # Textual refreshed a widget at each of its styles a theme changes (24 times this one, on
    # the run screen some twenty a widget), each working out the widget's regions anew: half
    # the restyle's time.
    class Counted(Static):
        DEFAULT_CSS = "Counted { background: $primary; color: $text; border: solid $accent; }"
        refreshes = 0

        def refresh(
            self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
        ) -> Any:
            self.refreshes += 1
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        counted = Counted("in the theme's colours")
        await pilot.app.screen.mount(counted)
        await pilot.pause()
        background, counted.refreshes = counted.styles.background, 0
        await pilot.press("t")
        await pilot.pause()
        assert counted.styles.background != background
        assert counted.refreshes == 1


def offered(screen: Screen[Any]) -> set[str]:
    """The footer's words: the keys the screen offers now."""
    return {active.binding.description for active in screen.active_bindings.values() if active.binding.show}


def footer_keys(screen: Screen[Any]) -> list[FooterKey]:
    """The keys the screen's footer draws."""
    return list(screen.query_one(Footer).query(FooterKey))


async def test_the_footer_is_made_anew_when_its_keys_change_and_only_then(tmp_path: Path) -> None:
    lab = get_lab("tests.fixture_labs:SLOW")
    request = RunRequest(lab, lab.build_params({}), "cpu", 0, "tests.fixture_labs:SLOW")
    app = make_app(tmp_path / "runs", start=request, config_path=tmp_path / "config.json")
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)

        def drawn() -> list[str]:
            return [key.description for key in footer_keys(screen)]

        # Live with a picture: Cancel and Save PNG (the keys stay so until the run ends).
        await _wait_for(pilot, lambda: {"Cancel", "Save PNG"} <= set(drawn()), "a live run's keys")
        shown = footer_keys(screen)
        await pilot.press("tab")  # the focus moves, the keys offered stay: Textual remade them all
        await pilot.pause()
        assert screen.focused is not None and footer_keys(screen) == shown
        await pilot.press("c")
        await _wait_for(pilot, lambda: screen.ended, "the cancelled run to end")
        await _wait_for(pilot, lambda: "Cancel" not in drawn(), "the footer of an ended run")
        offered_now = [key.binding.description for key in screen.active_bindings.values() if key.binding.show]
        assert drawn()[: len(offered_now)] == offered_now  # then the palette's key


async def test_the_board_at_80_columns_shows_each_runs_time_and_key_metric(tmp_path: Path) -> None:
    make_recorded_run(tmp_path / "runs")
    async with _app(tmp_path).run_test(size=(80, 24)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        table = pilot.app.screen.query_one(DataTable)
        rights = itertools.accumulate(column.get_render_width(table) for column in table.ordered_columns)
        shown = [
            c.label.plain
            for c, right in zip(table.ordered_columns, rights, strict=True)
            if right <= table.size.width
        ]
        assert shown[:5] == ["run", "lab", "status", "time", "key metric"]
        assert table.fixed_columns == 1  # the run's id stays when the arrows scroll sideways


async def test_the_menu_takes_no_keys_once_a_lab_is_chosen_until_it_is_back(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        menu = pilot.app.screen
        lab_list = menu.query_one(LabList)
        await pilot.press("enter")
        # Keys typed while the form is made (it takes a moment) reach no lab of the menu.
        assert lab_list.disabled
        assert isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.lab.name == "pde"
        await pilot.press("escape")
        assert pilot.app.screen is menu and not lab_list.disabled and lab_list.has_focus


@pytest.mark.slow
async def test_help_opens_and_closes(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, MenuScreen)


@pytest.mark.slow
async def test_a_run_under_the_help_is_painted_again_when_the_help_closes(tmp_path: Path) -> None:
    # Under another screen the run screen is not repainted (each paint would be blended under
    # the help, and the help's keys would wait for it); its state keeps up all the same.
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        screen = await _run_pde_until_first_metric(pilot, grid="32", steps="10000000")
        panel = screen.query_one(MetricsPanel)

        def step_shown() -> int:
            first = panel.content.plain.splitlines()[0]  # "step  1200"
            assert first.split()[0] == "step"
            return int(first.split()[1])

        await _wait_for(pilot, lambda: not isinstance(panel.content, str), "the first paint")
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        shown = step_shown()
        await _wait_for(pilot, lambda: screen.state.step > shown + 1000, "the run to go on")
        assert step_shown() == shown
        await pilot.press("escape")
        assert pilot.app.screen is screen
        await _wait_for(pilot, lambda: step_shown() > shown + 1000, "the run's paint")


async def test_the_help_lists_every_key_of_every_screen_and_the_docs_the_same(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=(120, 60)) as pilot:
        await pilot.press("question_mark")
        console = Console(width=400, file=io.StringIO(), record=True)
        console.print(pilot.app.screen.query_one(Static).content)
        help_text = console.export_text()
    for where, owner in keys.places():
        for binding in Binding.make_bindings(owner.BINDINGS):
            shown = keys.key_display(binding.key).strip("`")
            assert shown in help_text, f"{where}: {binding.key} is not in the help"
            assert (binding.tooltip or binding.description).split()[0] in help_text
    assert "In a form's text field" in help_text  # where the letters do not reach
    screens = (REPO / "docs" / "screens.md").read_text()
    assert keys.markdown() in screens, "docs/screens.md's key table differs: python -m tui.keys prints it"


def test_the_helps_table_is_drawn_once_for_each_width_whatever_the_colours_over_it() -> None:
    # Textual draws a widget's Rich renderable anew at each change of its styles (a theme's),
    # and twice over: the help's table, 15-20 ms a time, is drawn once for each width.
    drawn: list[int] = []

    class Counted(Table):
        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            drawn.append(options.max_width)
            yield from super().__rich_console__(console, options)

    def table(kind: type[Table]) -> Table:
        made = kind("where", "key", "does", title="meetup-lab keys", expand=True)
        for row in keys.rows():
            made.add_row(row.where, row.keys, row.does)
        return made

    kept, reference = KeptLines(table(Counted)), table(Table)
    console = Console(width=100, file=io.StringIO(), color_system="truecolor")
    # A first draw for a few lines only: what is kept is all of them all the same.
    assert len(console.render_lines(kept, console.options.update(width=60, height=4))) == 4
    for width, colours in itertools.product((60, 40), ("white on black", "black on white")):
        options = console.options.update_width(width)
        assert console.render_lines(Styled(kept, colours), options, pad=False) == console.render_lines(
            Styled(reference, colours), options, pad=False
        )
        assert Measurement.get(console, options, kept) == Measurement.get(console, options, reference)
    assert drawn == [60, 40]


@pytest.mark.slow
async def test_command_palette_opens_a_lab(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"run lab: pde")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, FormScreen)


async def test_no_color_draws_the_heatmap_in_ascii(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    record = make_recorded_run(tmp_path / "runs")
    async with _replay(tmp_path, record) as pilot:
        heatmap = pilot.app.screen.query_one(Heatmap)
        lines = [heatmap.render_line(y).text for y in range(heatmap.size.height)]
        drawn = "".join(lines)
        assert "▀" not in drawn
        assert "@" in drawn  # the densest character of the ramp marks the peak
        # Greyscale throughout, the screen's every colour: no hue says anything. (The picture's
        # window, its three coloured buttons and title, is the screenshot's, not the app's.)
        svg = re.sub(r"<circle[^>]*>|<text class=\"terminal-title\"[^>]*>", "", pilot.app.export_screenshot())
        colours = {bytes.fromhex(c) for c in re.findall(r"#([0-9a-fA-F]{6})\b", svg)}
        assert len(colours) > 2
        hues = {c.hex() for c in colours if max(c) - min(c) > 8}  # the exporter's default text: c5c8c6
        assert not hues, f"colours under NO_COLOR: {sorted(hues)[:5]}"


@pytest.mark.slow
async def test_quitting_with_a_live_run_asks_stay_cancel_or_leave_it_running(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        screen = await _run_pde_until_first_metric(pilot, grid="64", steps="10000000")
        await pilot.press("q")
        dialog = pilot.app.screen
        assert isinstance(dialog, ChoiceScreen) and "1 run is live" in dialog.question
        await pilot.press("escape")  # stay
        assert pilot.app.screen is screen and pilot.app.is_running
        await pilot.press("q", "enter")  # the default: leave it running
    (info,) = list_runs(tmp_path / "runs")
    assert info.status == "running"  # the app has gone, the run has not

    async with _app(tmp_path).run_test(size=SIZE) as pilot:  # a new session sees it
        await pilot.press("h")
        board = pilot.app.screen
        assert isinstance(board, RunsScreen)
        assert board.query_one(DataTable).get_row_at(0)[:3] == [info.run_id, "pde", "running"]
        await pilot.press("q", "tab", "enter")  # cancel them
    run = Run(RunRecord(info.path))
    assert run.wait(30)
    assert run.record.status() == "cancelled"


async def test_quitting_asks_nothing_once_the_run_has_its_verdict_though_its_process_lingers(
    tmp_path: Path,
) -> None:
    # Between a run's summary and its process's exit, TensorFlow's teardown can take seconds:
    # the run is over, so quitting meanwhile has nothing to ask about.
    record = make_recorded_run(tmp_path / "runs")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(record.path / "supervisor.lock")], stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        assert record.live() and record.summary is not None
        async with _app(tmp_path).run_test(size=SIZE) as pilot:
            await pilot.press("q")
            await pilot.pause()
            assert not isinstance(pilot.app.screen, ChoiceScreen)
            assert not pilot.app.is_running
    finally:
        holder.kill()
        holder.wait()


async def test_replay_of_a_run_without_a_result_says_so(tmp_path: Path) -> None:
    record = make_recorded_run(tmp_path / "runs")
    # As a killed run leaves it: the events stop mid-run and there is no summary.
    lines = (record.path / "events.jsonl").read_text().splitlines()
    (record.path / "events.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    (record.path / "summary.json").unlink()
    app = make_app(tmp_path / "runs", replay=record, config_path=tmp_path / "config.json")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()
        screen = pilot.app.screen
        await _wait_for(pilot, lambda: screen.ended, "the replay to end")
        assert screen.query_one(RunStatus).status == "interrupted"
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, MenuScreen)


@pytest.mark.slow
async def test_the_form_shows_the_chosen_equations_parameters_and_runs_it(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        form = await _open_pde_form(pilot)
        assert form.query_one("#param-diffusivity").display
        assert not form.query("#param-eps")  # made only once a choice needs it
        form.query_one("#param-equation Select", Select).value = "wave"
        await pilot.pause()
        assert not form.query_one("#param-diffusivity").display
        assert form.query_one("#param-eps").display and form.query_one("#param-scheme").display
        assert form.query_one("#param-grid Input", Input).value == "500"  # the wave's own default
        await _set_field(pilot, "grid", "32")
        await _set_field(pilot, "steps", "200")
        await pilot.press("ctrl+r")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        await _wait_for(pilot, lambda: screen.ended, "the wave run to end")
        assert screen.query_one(RunStatus).status == "finished"
        assert "energy" in screen.query_one(MetricsPanel).values


@pytest.mark.slow
async def test_colour_map_and_range_keys(tmp_path: Path) -> None:
    record = make_recorded_run(tmp_path / "runs")
    async with _replay(tmp_path, record) as pilot:
        heatmap = pilot.app.screen.query_one(Heatmap)
        assert (heatmap.cmap, heatmap.range_mode) == ("viridis", "auto")
        await pilot.press("m")
        assert heatmap.cmap == "inferno"
        await pilot.press("v")
        assert heatmap.range_mode == "fixed" and heatmap.value_range() == heatmap.fixed_range
        await pilot.press("v")
        low, high = heatmap.value_range()
        assert heatmap.range_mode == "symmetric" and low == -high


@pytest.mark.slow
async def test_zoom_and_pan_keys_run_the_fractal_again_there(tmp_path: Path) -> None:
    app = _app_running(tmp_path, "pde", {"equation": "mandelbrot", "grid": "40", "iterations": "20"})
    async with app.run_test(size=SIZE) as pilot:
        for key in (None, "plus", "shift+right", "shift+up"):
            previous = pilot.app.screen
            if key is not None:
                await pilot.press(key)
                await pilot.pause()
            screen = pilot.app.screen
            assert isinstance(screen, RunScreen) and (key is None or screen is not previous)
            await _wait_for(pilot, lambda s=screen: s.ended, f"the run after {key}")
            assert screen.query_one(RunStatus).status == "finished"
    windows = sorted(
        tuple(
            json.loads((r.path / "params.json").read_text())["params"][k]
            for k in ("zoom", "centre_x", "centre_y")
        )
        for r in list_runs(tmp_path / "runs")
    )
    # Each pan moves the centre by a quarter of the window's height, 2.6 / zoom.
    assert windows == [(1.0, -0.5, 0.0), (2.0, -0.5, 0.0), (2.0, -0.175, 0.0), (2.0, -0.175, 0.325)]


@pytest.mark.slow
async def test_zoom_on_a_run_without_a_window_says_so_and_starts_nothing(tmp_path: Path) -> None:
    async with _replay(tmp_path, make_recorded_run(tmp_path / "runs")) as pilot:  # a heat run
        screen = pilot.app.screen
        await pilot.press("plus")
        await pilot.pause()
        assert pilot.app.screen is screen
        assert [n.message for n in pilot.app._notifications] == ["This run has no window to zoom or move."]
    assert len(list_runs(tmp_path / "runs")) == 1


@pytest.mark.slow
async def test_the_forms_defaults_follow_the_equation_until_the_user_types_one(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        form = await _open_pde_form(pilot)
        equation = form.query_one("#param-equation Select", Select)
        grid = form.query_one("#param-grid Input", Input)
        equation.value = "julia"
        await pilot.pause()
        centre = form.query_one("#param-centre_x Input", Input)  # made for the fractals
        assert (grid.value, centre.value) == ("256", "0.0")
        equation.value = "mandelbrot"
        await pilot.pause()
        assert centre.value == "-0.5"
        await _set_field(pilot, "grid", "500")  # typed by the user, as it happens the wave's default
        for chosen in ("wave", "heat"):
            equation.value = chosen
            await pilot.pause()
            assert grid.value == "500"  # kept


@pytest.mark.slow
async def test_pause_step_and_resume_keys_drive_a_live_run(tmp_path: Path) -> None:
    values = {"equation": "heat", "grid": "16", "steps": "10000000", "frame_every": "2000"}
    app = _app_running(tmp_path, "pde", values)
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)

        def step() -> int:
            return screen.frame.step if screen.frame is not None else -1

        async def settled() -> int:
            """The frame's step once it stops changing (frames in flight have arrived)."""
            for _ in range(60):
                before = step()
                await pilot.pause(2.0)  # a long quiet spell: a loaded machine delivers late
                if step() == before:
                    return before
            raise AssertionError("the paused run kept moving")

        await _wait_for(pilot, lambda: step() >= 4000, "frames")
        assert {"Cancel", "Pause", "Save PNG"} <= offered(screen) and not {"Resume", "Step"} & offered(screen)
        await pilot.press("n")  # not paused: not offered, and nothing happens
        assert not screen.paused
        await pilot.press("p")
        assert screen.paused and screen.query_one(RunStatus).status == "paused"
        assert {"Cancel", "Resume", "Step"} <= offered(screen) and "Pause" not in offered(screen)
        held = await settled()
        await pilot.press("n")
        await _wait_for(pilot, lambda: step() == held + 2000, "one more frame")
        assert await settled() == held + 2000  # and then it holds again
        await pilot.press("p")
        assert not screen.paused and screen.query_one(RunStatus).status == "running"
        assert "Pause" in offered(screen) and "Step" not in offered(screen)
        await _wait_for(pilot, lambda: step() > held + 2000, "frames again after resume")
        await pilot.press("c")
        await _wait_for(pilot, lambda: screen.ended, "the cancelled run")
        assert screen.query_one(RunStatus).status == "cancelled"
        # An ended run offers what can still be done with it, and no more.
        live_keys = {"Cancel", "Pause", "Resume", "Step"}
        await _wait_for(pilot, lambda: not live_keys & offered(screen), "the keys of an ended run")
        assert {"Rerun", "Save PNG", "Back"} <= offered(screen)


@pytest.mark.slow
async def test_zoom_and_pan_of_a_live_fractal_recompute_in_its_own_process(tmp_path: Path) -> None:
    values = {"equation": "mandelbrot", "grid": "300", "iterations": "100000"}
    app = _app_running(tmp_path, "pde", values)
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        await _wait_for(pilot, lambda: screen.frame is not None, "the first frame")
        pid = screen.run.pid if screen.run is not None else None
        await pilot.press("plus", "shift+right")
        assert pilot.app.screen is screen and not screen.ended
        logs = lambda: [e.message for e in screen.run.record.events("log")]  # noqa: E731
        await _wait_for(pilot, lambda: any("(-0.175, 0), zoom 2," in m for m in logs()), "the new window")
        await pilot.press("c")
        await _wait_for(pilot, lambda: screen.ended, "the cancelled run")
        assert screen.run.pid == pid  # the same process all along
    (info,) = list_runs(tmp_path / "runs")
    assert info.status == "cancelled"
    assert [m for m in logs() if "pixels around" in m][0].endswith("(-0.5, 0), zoom 1, 100000 iterations")


@pytest.mark.slow
async def test_a_zoom_out_of_range_is_refused_and_the_live_run_goes_on(tmp_path: Path) -> None:
    # 5e4 is near the largest zoom complex64 resolves at 400 pixels across: twice it is past.
    values = {"equation": "mandelbrot", "grid": "400", "iterations": "100000", "zoom": "5e4"}
    app = _app_running(tmp_path, "pde", values)
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        await _wait_for(pilot, lambda: screen.frame is not None, "the first frame")
        await pilot.press("plus")
        await pilot.pause()
        assert pilot.app.screen is screen and not screen.ended
        assert screen.query_one(RunStatus).status == "running"
        await pilot.press("c")
        await _wait_for(pilot, lambda: screen.ended, "the cancelled run")
    assert len(list_runs(tmp_path / "runs")) == 1


@pytest.mark.slow
async def test_zoom_keys_leave_a_run_without_a_zoom_alone(tmp_path: Path) -> None:
    app = _app_running(
        tmp_path, "pde", {"equation": "heat", "grid": "16", "steps": "20", "frame_every": "10"}
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        await _wait_for(pilot, lambda: screen.ended, "the heat run")
        await pilot.press("plus")
        await pilot.pause()
        assert pilot.app.screen is screen
        assert screen.query_one(RunStatus).status == "finished"
    assert len(list_runs(tmp_path / "runs")) == 1


@pytest.mark.slow
async def test_next_view_key_cycles_the_views_a_run_draws(tmp_path: Path) -> None:
    async with _replay(tmp_path, make_recorded_playground(tmp_path / "runs")) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        heatmap = screen.query_one(Heatmap)
        assert screen.view == "output" and heatmap.contour == 0.5 and heatmap.points is not None
        await pilot.press("f")
        assert screen.view == "weights" and heatmap.signed and heatmap.points is None
        assert "weights · step 3" in str(screen.query_one("#heatmap-panel").border_title)
        await pilot.press("f")
        assert screen.view == "parameters"  # every run shows its parameters too
        await pilot.press("f")
        assert screen.view == "output"


@pytest.mark.slow
async def test_marked_runs_on_the_board_are_compared_in_a_table_and_their_curves(tmp_path: Path) -> None:
    records = make_recorded_comparison(tmp_path / "runs")
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await pilot.pause()
        board = pilot.app.screen
        assert isinstance(board, RunsScreen)
        await pilot.press("v")  # nothing marked: it says how
        assert not isinstance(pilot.app.screen, CompareScreen)
        await pilot.press("space", "down", "space", "down", "space")
        await pilot.pause()
        assert board.marked == {r.path for r in records}
        assert str(board.query_one(DataTable).get_row_at(0)[0]).startswith("● ")
        await pilot.press("v")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, CompareScreen)
        table = screen.query_one(ResultTable)
        rows = [table.get_row_at(n) for n in range(table.row_count)]
        assert [(row[1], row[2]) for row in rows] == [("0.1", "0,1"), ("0.2", "0")]  # dt, and its seeds
        assert rows[0][4] == "83.75 ± 0.35355"  # the final mass over the two seeds
        assert screen.chart is not None and screen.chart.name == "mass"  # one line a run
        assert {k: len(v) for k, v in screen.chart.series.items()} == {
            "dt=0.1 seed=0": 4, "dt=0.1 seed=1": 4, "dt=0.2 seed=0": 4,
        }  # fmt: skip
        await pilot.press("m")  # the next metric the runs recorded
        assert screen.metric == "t" and screen.chart.name == "t"
        assert screen.chart.series["dt=0.2 seed=0"][-1] == (400.0, 80.0)
        await pilot.press("escape")
        assert pilot.app.screen is board


@pytest.mark.slow
async def test_a_check_of_several_fields_shows_on_its_field_as_the_user_types(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        form = await _open_pde_form(pilot)
        dt = form.query_one("#param-dt", ParamField)
        await _set_field(pilot, "dt", "0.3")  # stable up to dx²/(4D) = 0.25 for D = 1: before Run
        assert dt.has_class("-invalid") and "dt=0.3 is unstable for D=1" in str(
            dt.query_one(".param-help", Label).render()
        )
        await _set_field(pilot, "diffusivity", "0.5")  # another field makes it stable again
        assert not dt.has_class("-invalid") and "unstable" not in str(
            dt.query_one(".param-help", Label).render()
        )


@pytest.mark.slow
async def test_a_field_of_several_values_starts_a_sweep_from_the_form(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        form = await _open_pde_form(pilot)
        await _set_field(pilot, "grid", "16")
        await _set_field(pilot, "steps", "40")
        await _set_field(pilot, "dt", "0.1,5")
        help_line = form.query_one("#param-dt .param-help", Label)
        assert "swept over 2 values: 0.1, 5" in str(help_line.render())
        await pilot.press("ctrl+r")  # dt=5 is unstable on this grid: the whole sweep is refused
        await pilot.pause()
        assert "for dt=5" in str(form.query_one("#form-error", Label).render())
        assert list_runs(tmp_path / "runs") == []
        await _set_field(pilot, "dt", "0.1,0.2")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(pilot.app.screen, RunsScreen)
        infos = list_runs(tmp_path / "runs")
        assert sorted(RunRecord(i.path).meta["params"]["dt"] for i in infos) == [0.1, 0.2]
        assert len({i.sweep for i in infos}) == 1 and infos[0].sweep
        for info in infos:
            assert Run(RunRecord(info.path)).wait(90)
        assert {i.status for i in list_runs(tmp_path / "runs")} == {"finished"}


@pytest.mark.slow
async def test_edit_fills_the_form_from_a_run_and_the_form_remembers_the_last_values(tmp_path: Path) -> None:
    recorded = make_recorded_run(tmp_path / "runs")
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(pilot.app.screen, RunsScreen)
        await pilot.press("e")  # run it again with changes
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, FormScreen) and form.lab.name == "pde"
        assert f"the values of run {recorded.run_id}" in str(form.query_one("#form-title", Label).render())
        assert form.query_one("#param-grid Input", Input).value == "32"
        await _set_field(pilot, "steps", "60")
        await pilot.press("ctrl+r")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        await _wait_for(pilot, lambda: screen.ended, "the run to end")
        while screen.view != "parameters":
            await pilot.press("f")
        table = screen.query_one(ResultTable)
        rows = {table.get_row_at(n)[0]: table.get_row_at(n)[1] for n in range(table.row_count)}
        assert rows["grid"] == "32" and rows["steps"] == "60" and rows["device"] == "cpu"  # its device too
        assert "eps" not in rows  # the wave's, not this heat run's
    async with _app(tmp_path).run_test(size=SIZE) as pilot:  # another session: the values last run
        form = await _open_pde_form(pilot)
        assert form.query_one("#param-steps Input", Input).value == "60"
        assert form.query_one("#param-grid Input", Input).value == "32"
        await pilot.press("ctrl+o")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#param-steps Input", Input).value == "10000"


@pytest.mark.slow
async def test_run_typed_ahead_as_the_form_opens_takes_the_fields_below_the_first_screen(
    tmp_path: Path,
) -> None:
    # A form makes the fields it has room for first and the rest after its first paint; a run
    # asked for before then (a key typed ahead) still takes every field's value.
    lab = get_lab("pde")
    values = {"grid": "32", "steps": "40", "frame_every": "20", "boundary": "periodic", "initial": "square"}
    like = RunRequest(lab, lab.build_params(values), "cpu", 0)
    made: list[str] = []

    class RunAtOnce(FormScreen):
        def on_mount(self) -> None:
            made.extend(field.spec.name for field in self.query(ParamField))
            self.action_run()  # Ctrl+R's action, before the first paint

    async with _app(tmp_path).run_test(size=(100, 10)) as pilot:
        pilot.app.push_screen(RunAtOnce(lab, like, "a test's values"))
        await _wait_for(pilot, lambda: isinstance(pilot.app.screen, RunScreen), "the run screen")
        assert "initial" not in made  # below the first screenful: not made when the run was asked for
        (info,) = list_runs(tmp_path / "runs")
        ran = RunRecord(info.path).meta["params"]
        assert (ran["grid"], ran["boundary"], ran["initial"]) == (32, "periodic", "square")
        await _wait_for(pilot, lambda: RunRecord(info.path).status() == "finished", "the run to end")


async def test_a_form_left_or_covered_before_its_first_paint_makes_its_other_fields_when_shown(
    tmp_path: Path,
) -> None:
    lab = get_lab("pde")
    like = RunRequest(lab, lab.build_params({"boundary": "periodic", "initial": "square"}), "cpu", 0)

    # Escape, or `?`, typed ahead: taken before the fields below the first screenful are made.
    class LeftAtOnce(FormScreen):
        def on_mount(self) -> None:
            self.app.call_later(self.app.pop_screen)

    class CoveredAtOnce(FormScreen):
        def on_mount(self) -> None:
            self.app.call_later(self.app.action_help)

    async with _app(tmp_path).run_test(size=(100, 10)) as pilot:
        # Left: none is mounted into the screen being removed (a crash of the app).
        pilot.app.push_screen(LeftAtOnce(lab, like, "a test's values"))
        for _ in range(10):
            await pilot.pause(0.05)
        assert isinstance(pilot.app.screen, MenuScreen)
        # Covered: they are made once it is shown again.
        form = CoveredAtOnce(lab, like, "a test's values")
        pilot.app.push_screen(form)
        await _wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help")
        assert "initial" not in [field.spec.name for field in form.query(ParamField)]
        await pilot.press("escape")
        await _wait_for(pilot, lambda: "initial" in [f.spec.name for f in form.query(ParamField)], "the rest")
        assert form.query_one("#param-initial", ParamField).text == "square"


@pytest.mark.slow
async def test_a_form_left_with_escape_comes_back_as_it_was_left_until_the_lab_runs(tmp_path: Path) -> None:
    async with _app(tmp_path).run_test(size=SIZE) as pilot:
        form = await _open_pde_form(pilot)
        await _set_field(pilot, "steps", "70")
        await pilot.press("escape", "enter")  # back to the menu, and the same lab again
        await pilot.pause()
        assert pilot.app.screen is form  # kept, not made again
        assert form.query_one("#param-steps Input", Input).value == "70"
        await pilot.press("ctrl+o", "escape", "enter")  # the defaults are not undone by Escape
        await pilot.pause()
        fresh = pilot.app.screen
        assert isinstance(fresh, FormScreen) and fresh is not form
        assert fresh.query_one("#param-steps Input", Input).value == "10000"
        await _set_field(pilot, "steps", "20")
        await pilot.press("ctrl+r")
        await pilot.pause()
        run = pilot.app.screen
        assert isinstance(run, RunScreen)
        await _wait_for(pilot, lambda: run.ended, "the run to end")
        await pilot.press("escape", "escape", "enter")  # to the form it ran from, the menu, the lab
        await pilot.pause()
        again = pilot.app.screen
        assert isinstance(again, FormScreen) and again is not fresh  # made anew from the values run
        assert again.query_one("#param-steps Input", Input).value == "20"
        assert "the values you last ran it with" in str(again.query_one("#form-title", Label).render())


@pytest.mark.slow
async def test_rate_keys_retune_a_live_playground_run(tmp_path: Path) -> None:
    app = _app_running(tmp_path, "logreg", {"mode": "playground", "epochs": "1000000", "points": "60"})
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        panel = screen.query_one(MetricsPanel)
        await _wait_for(pilot, lambda: panel.values.get("learning_rate") == 0.03, "the first epoch")
        await pilot.press("right_square_bracket")
        await _wait_for(pilot, lambda: panel.values.get("learning_rate") == 0.1, "the run to take 0.1")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await _wait_for(pilot, lambda: panel.values.get("learning_rate") == 0.01, "the run to take 0.01")
        await pilot.press("c")
        await _wait_for(pilot, lambda: screen.ended, "the cancelled run")
    (info,) = list_runs(tmp_path / "runs")
    logged = [json.loads(line) for line in (info.path / "events.jsonl").read_text().splitlines()]
    changes = [
        e["message"] for e in logged if e["type"] == "log" and e["message"].startswith("training at learning")
    ]
    assert changes[0] == "training at learning rate 0.1 from here (it was 0.03)"
    assert changes[-1].startswith("training at learning rate 0.01 ")
    # Each key is logged as it arrives, in the words of the key's notification.
    keys_logged = [
        e["message"] for e in logged if e["type"] == "log" and e["message"].startswith("learning_rate:")
    ]
    assert keys_logged == [
        "learning_rate: 0.03 → 0.1",
        "learning_rate: 0.1 → 0.03",
        "learning_rate: 0.03 → 0.01",
    ]


@pytest.mark.slow
async def test_a_chart_and_a_table_are_views_the_arrows_scroll(tmp_path: Path) -> None:
    async with _replay(tmp_path, make_recorded_sweep(tmp_path / "runs"), size=(80, 24)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        assert screen.view == "loss vs time" and screen.query_one(LineChart).display
        await pilot.press("f")
        table = screen.query_one(ResultTable)
        assert screen.view == "batch sizes" and table.has_focus
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["1", "32", "full"]
        await pilot.press("right", "right", "right", "right")
        assert table.max_scroll_x > 0 and table.scroll_x > 0  # the last columns come into view
        await pilot.press("f")
        assert screen.view == "parameters"
        await pilot.press("f")
        assert screen.view == "loss vs time"


async def test_a_run_whose_first_view_is_a_table_shows_its_rows(tmp_path: Path) -> None:
    async with _replay(tmp_path, make_recorded_placement(tmp_path / "runs")) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        table = screen.query_one(ResultTable)
        assert screen.view == "CPU threads" and table.row_count == 3
        assert table.size.height >= 4  # a header and three rows: laid out while hidden, it had none
        assert screen.query_one(RunStatus).status == "finished"


async def test_the_log_at_80x24_shows_its_newest_lines_whole_without_a_scroll_bar_across(
    tmp_path: Path,
) -> None:
    # Lines that wrap: at the log's width, short of its scroll bar (which shows once a third
    # line comes), so no bar across takes one of its two rows and no line runs past its edge.
    lines = ["x" * 62 + f" line{i} and the rest of it, wrapped" for i in range(3)]
    lines += [f"word{i:02d} " + " ".join(f"w{j:02d}" for j in range(30)) for i in range(3)]
    async with _replay(tmp_path, make_recorded_log(tmp_path / "runs", lines), size=(80, 24)) as pilot:
        log = pilot.app.screen.query_one("#log", RichLog)
        assert log.size.height == 2 and not log.show_horizontal_scrollbar
        width = log.scrollable_content_region.width
        assert [line.text for line in log.lines if line.text[width:].strip()] == []
        assert log.scroll_y == log.max_scroll_y > 0  # the newest lines in view
        assert "finished" in log.lines[-1].text


async def test_the_log_stays_on_its_newest_line_as_the_screen_shrinks_under_it(tmp_path: Path) -> None:
    # Textual scrolls a log to its end as each line is written, with the height it had then:
    # made smaller later (a terminal resized to 80x24), it would stay on an older line.
    lines = [f"line {i}" for i in range(12)]
    async with _replay(tmp_path, make_recorded_log(tmp_path / "runs", lines), size=(120, 40)) as pilot:
        log = pilot.app.screen.query_one("#log", RichLog)
        tall = log.size.height
        await pilot.resize_terminal(80, 24)
        await pilot.app.screen.wait_for_refresh()
        await pilot.pause()
        assert log.size.height < tall
        assert log.scroll_y == log.max_scroll_y > 0
        assert "finished" in log.lines[-1].text


@pytest.mark.slow
async def test_every_chart_the_lab_names_is_on_the_run_screen_at_80x24(tmp_path: Path) -> None:
    record = make_recorded_playground(tmp_path / "runs")
    async with _replay(tmp_path, record, size=(80, 24)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        charts = screen.query_one(MetricCharts)
        reported = {
            name for event in record.events() if isinstance(event, ev.Metric) for name in event.values
        }
        named = [name for name in screen._charts() if name in reported]
        assert len(named) >= 3 and list(charts.series)[: len(named)] == named
        # One line each at 80x24, and all of them in view: none cut off the panel.
        assert charts.compact and charts.size.height == len(charts.series)
        assert screen.query_one("#side").content_region.contains_region(charts.region)
