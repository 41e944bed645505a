"""A change of theme restyles what is on view, the rest of the screen stack as it comes back.

Textual (8.2, ``App.refresh_css``) answers a new theme by parsing every stylesheet again for
the new variables and restyling every widget of every screen in the stack: on the run screen,
37 ms before the first paint in the new colours, 18 of them for the parse and the screens
that cannot be seen. Here each theme's stylesheet is parsed once, and a screen out of view is
restyled when it is shown again, before its first paint (Textual's pop does not restyle it).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any
from weakref import WeakSet

from textual.app import App, ScreenError
from textual.css.model import RuleSet
from textual.screen import Screen


def on_view(app: App[Any]) -> list[Screen[Any]]:
    """The screen on top and those seen through it (a modal screen's, like the help's, below
    it), top first."""
    stack = app.screen_stack
    seen = stack[-1:]
    for screen in reversed(stack[:-1]):
        above = seen[-1]
        if not (above.is_modal and above.styles.background.a < 1):
            break
        seen.append(screen)
    return seen


class Restyler:
    def __init__(self) -> None:
        self._parsed: dict[Hashable, list[RuleSet]] = {}
        self._stale: WeakSet[Screen[Any]] = WeakSet()

    def refresh_css(self, app: App[Any], animate: bool) -> None:
        """``App.refresh_css`` for the stylesheet's variables now: see the module's docstring."""
        stylesheet = app.stylesheet
        variables = app.get_css_variables()
        # The sources too: a widget class first mounted since brings its own CSS.
        key = (frozenset(variables.items()), tuple(stylesheet.source.items()))
        stylesheet.set_variables(variables)
        if key in self._parsed:
            stylesheet._rules = self._parsed[key]
            stylesheet._rules_map = None
            stylesheet._require_parse = False
        else:
            stylesheet.reparse()
            self._parsed[key] = stylesheet.rules
        stylesheet.update(app, animate=animate)  # the app and the screen on top
        try:
            if app.screen.is_mounted:
                app.screen._refresh_layout(app.size)
        except ScreenError:  # no screen yet: the theme set as the app is made
            return
        seen = on_view(app)
        for screen in seen[1:]:
            stylesheet.update(screen, animate=animate)
        self._stale.update(screen for screen in app.screen_stack if screen not in seen)

    def screen_shown(self, app: App[Any]) -> None:
        """Restyle what has come into view stale (a screen under the one just closed)."""
        for screen in on_view(app):
            if screen in self._stale:
                self._stale.discard(screen)
                app.stylesheet.update(screen, animate=False)
