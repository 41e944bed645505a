"""The Textual app and its factory, shared by the CLI and the tests."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen

from labs import warm
from labs.control import NotLive
from labs.params import to_dict
from labs.recording import RunRecord, live_runs
from labs.registry import Lab, all_labs, get_lab
from labs.runner import Run, RunRequest
from themes.builtin import DEFAULT_THEME, THEMES
from tui import config
from tui.messages import OpenForm, OpenRecord, StartRun, StartSweep
from tui.restyle import Restyler
from tui.screens.choice import ChoiceScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.menu import MenuScreen
from tui.screens.run import RunScreen
from tui.screens.runs import RunsScreen

# A new spare starts this long after the last was taken, so that its import of
# TensorFlow does not compete with the run that has just started with its own.
SPARE_DELAY_S = 5.0


def _freeze_start_up() -> None:
    """Put what start-up made (modules, classes, the first screens) out of the garbage
    collector's sight, once a process: it lives as long as the app, and a full collection
    walked it all (measured with a run computing: 40 ms every 5 s, a key that came meanwhile
    held up as long; now 7 ms). Garbage is collected first so that none is kept. The cost:
    cycles among what the first screens made stay unfreed once they are closed."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


class MeetupLabApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "meetup-lab"
    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="this help: every key, screen by screen"),
        Binding(
            "t", "next_theme", "Theme",
            tooltip="next theme: meetup-dark (default), meetup-light, meetup-contrast (16 ANSI colours); "
            "remembered",
        ),
        Binding(
            "q", "quit", "Quit",
            tooltip="quit; with runs live, it asks: leave them running (the default), cancel them, or stay",
        ),
    ]  # fmt: skip

    def __init__(
        self,
        runs_dir: Path,
        start: RunRequest | None = None,
        replay: RunRecord | None = None,
        config_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        self._start = start
        self._replay = replay
        self._config_path = config_path
        for theme in THEMES:
            self.register_theme(theme)
        settings = config.load(config_path)
        saved = settings.get("theme")
        # Any registered theme (ours or Textual's, chosen from the palette) is restored.
        self.theme = saved if saved in self.available_themes else DEFAULT_THEME
        self.warm_start = warm.wanted(settings.get("warm_start", True) is not False)
        self._spare: warm.Spare | None = None
        self._restyler = Restyler()

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        # Textual's own on Linux and macOS, also when named in TEXTUAL_DRIVER; not Windows',
        # nor any other driver named there.
        if driver.__module__ == "textual.drivers.linux_driver":
            from tui.driver import PromptEscapeDriver

            return PromptEscapeDriver
        return driver

    def on_mount(self) -> None:
        if not self.is_headless:  # the tests' apps, many to a process, are not frozen
            self.call_after_refresh(_freeze_start_up)
        # Immediate: a screen uncovered is restyled before its first paint in the old colours.
        self.screen_change_signal.subscribe(self, lambda _: self._restyler.screen_shown(self), immediate=True)
        if self.warm_start and self._start is None:
            self.call_after_refresh(self._new_spare)  # after the first paint: start-up stays quick
        self.push_screen(MenuScreen())
        if self._start is not None:
            self.push_screen(RunScreen(self.runs_dir, request=self._start))
        elif self._replay is not None:
            self.push_screen(RunScreen(self.runs_dir, record=self._replay))

    def watch_theme(self, theme: str) -> None:
        settings = config.load(self._config_path)
        if settings.get("theme") != theme:
            config.save({**settings, "theme": theme}, self._config_path)

    def refresh_css(self, animate: bool = True) -> None:
        self._restyler.refresh_css(self, animate)  # see tui/restyle.py

    def action_next_theme(self) -> None:
        names = [t.name for t in THEMES]
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"Theme: {self.theme}")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            # Made once and kept: opening it again costs no new widgets.
            if not self.is_screen_installed("help"):
                self.install_screen(HelpScreen(), "help")
            self.push_screen("help")

    def action_runs(self) -> None:
        self.push_screen(RunsScreen(self.runs_dir))

    def take_spare(self) -> warm.Spare | None:
        """The warm spare for a run about to start (None: start cold); another follows."""
        spare, self._spare = self._spare, None
        if self.warm_start:
            self.set_timer(SPARE_DELAY_S, self._new_spare)
        return spare

    def _new_spare(self) -> None:
        if self._spare is None and self.is_running:
            self._spare = warm.Spare()

    def on_unmount(self) -> None:
        if self._spare is not None:
            self._spare.close()

    async def action_quit(self) -> None:
        """Quit; with runs live, ask first: leave them running (the default), cancel them, or stay."""
        live = live_runs(self.runs_dir)
        if not live:
            self.exit()
            return
        names = ", ".join(record.run_id for record in live[:3]) + (
            f" and {len(live) - 3} more" if len(live) > 3 else ""
        )
        question = f"{len(live)} run{'s are' if len(live) > 1 else ' is'} live: {names}."

        def answered(answer: str | None) -> None:
            if answer == "cancel":
                for record in live:
                    try:
                        Run(record).cancel()
                    except NotLive:
                        pass  # it ended meanwhile
            if answer in ("leave", "cancel"):
                self.exit()

        answers = [("leave", "Leave them running"), ("cancel", "Cancel them"), ("stay", "Stay")]
        await self.push_screen(ChoiceScreen(question, answers, "stay"), answered)

    @on(OpenForm)
    def open_form(self, message: OpenForm) -> None:
        if message.like is not None:
            try:
                like = RunRequest.from_record(message.like)
            except (LookupError, KeyError, TypeError, ValueError) as exc:  # its lab or values are gone
                self.notify(f"Cannot fill the form from run {message.like.run_id}: {exc}", severity="error")
                return
            self.push_screen(FormScreen(like.lab, like, f"the values of run {message.like.run_id}"))
            return
        lab = get_lab(message.lab_name)
        last = self._last_used(lab)
        # A lab's form is kept once made, with what was typed in it, and shown again as it was
        # left (opening a kept screen takes a third of the time of making one); it is made anew
        # once the lab has run with other values.
        why = "the values you last ran it with"
        name = f"form-{lab.name}"
        if self.is_screen_installed(name):
            kept = self.get_screen(name)
            if kept in self.screen_stack:  # open below (the palette reaches a form from anywhere)
                self.push_screen(FormScreen(lab, last, why))
                return
            if isinstance(kept, FormScreen) and kept.like == last:
                self.push_screen(name)
                return
            self.uninstall_screen(name)
        self.install_screen(FormScreen(lab, last, why), name)
        self.push_screen(name)

    def _last_used(self, lab: Lab) -> RunRequest | None:
        """The request this lab was last started with from the form, if its values still hold."""
        last = (config.load(self._config_path).get("last_used") or {}).get(lab.name)
        if not isinstance(last, dict):
            return None
        try:
            return RunRequest(lab, lab.build_params(last["params"]), str(last["device"]), int(last["seed"]))
        except (LookupError, KeyError, TypeError, ValueError):  # the lab's parameters changed since
            return None

    @on(StartRun)
    def start_run(self, message: StartRun) -> None:
        request = message.request
        settings = config.load(self._config_path)
        last_used: dict[str, Any] = (
            dict(settings.get("last_used") or {}) if isinstance(settings.get("last_used"), dict) else {}
        )
        last_used[request.lab.name] = {
            "params": to_dict(request.params), "device": request.device, "seed": request.seed,
        }  # fmt: skip
        config.save({**settings, "last_used": last_used}, self._config_path)
        self.push_screen(RunScreen(self.runs_dir, request=request))

    @on(StartSweep)
    def start_sweep(self, message: StartSweep) -> None:
        started = 0
        for request in message.requests:
            try:
                request.start(self.runs_dir)
            except OSError as exc:
                why = exc.strerror or exc
                self.notify(f"Cannot record a run in {self.runs_dir}: {why}", severity="error")
                break
            started += 1
        self.notify(f"A sweep of {started} runs started: each waits its turn for its device.")
        self.push_screen(RunsScreen(self.runs_dir))

    @on(OpenRecord)
    def open_record(self, message: OpenRecord) -> None:
        self.push_screen(RunScreen(self.runs_dir, record=message.record))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for lab in all_labs().values():
            yield SystemCommand(
                f"Run lab: {lab.name}", lab.summary, partial(self.post_message, OpenForm(lab.name))
            )
        yield SystemCommand("Runs", "The runs board: live and recorded runs", self.action_runs)


def make_app(
    runs_dir: Path,
    start: RunRequest | None = None,
    replay: RunRecord | None = None,
    config_path: Path | None = None,
) -> MeetupLabApp:
    return MeetupLabApp(runs_dir, start=start, replay=replay, config_path=config_path)
