"""Textual's footer, made anew only when the keys it shows change, and at once."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter

Keys = tuple[tuple[str, str, str, bool, str], ...]


class Footer(TextualFooter):
    """Textual makes its footer's keys anew on every bindings signal: each focus change,
    screen resumed or binding refreshed, six times while a form opens and again whenever a
    run's state moves. Each time is a restyle and a layout of every key (a tenth of a
    second of the form's opening on two cores), after the screen's next paint: a screen
    opened is drawn first without its keys. This one makes them anew only when what it
    would show differs from what it shows or is about to, and before the next paint."""

    _wanted: Keys | None = None  # the keys of the last remake asked for

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        # Textual's own conditions for a remake.
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        keys = shown_keys(screen)
        if keys != self._wanted:
            self._wanted = keys
            self.call_next(self.recompose)


def shown_keys(screen: Screen[object]) -> Keys:
    """What a footer shows of ``screen``'s active bindings: each key, its action and
    description, whether it is enabled and its tooltip."""
    return tuple(
        (binding.key, binding.action, binding.description, enabled, tooltip)
        for _, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show or binding.key == screen.app.COMMAND_PALETTE_BINDING
    )
