"""A change of theme restyles what is on view, the rest of the screen stack as it comes back.

Textual (8.2, ``App.refresh_css``) answers a new theme by parsing every stylesheet again for
the new variables and restyling every widget of every screen in the stack: on the run screen,
37 ms before the first paint in the new colours, 18 of them for the parse and the screens
that cannot be seen. Here each theme's stylesheet is parsed once, and a screen out of view is
restyled when it is shown again, before its first paint (Textual's pop does not restyle it).
A widget restyled is refreshed once, not at each style that changes (``_restyle``), and the
screen on top is sent to the terminal once, not twice (``_repaint_once``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any
from weakref import WeakSet

from textual.app import App, ScreenError
from textual.css.model import RuleSet
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget


def on_view(app: App[Any]) -> list[Screen[Any]]:
    """The screen on top and those seen through it, top first: under a modal screen with a
    translucent background (the help's), the one below, and so on down while each is such.
    (This app's only translucent screens are modal.)"""
    stack = app.screen_stack
    seen = stack[-1:]
    for screen in reversed(stack[:-1]):
        above = seen[-1]
        if not (above.is_modal and above.styles.background.a < 1):
            break
        seen.append(screen)
    return seen


def _restyle(app: App[Any], root: DOMNode, animate: bool) -> None:
    """Restyle ``root`` and all below it, each widget refreshed once. Textual refreshes a
    widget at each style a restyle changes (at a change of theme some twenty a widget, each
    working out the widget's regions anew): half of the restyle's time on the run screen.
    Here the refreshes a widget asks for while it is restyled are gathered (a new layout if
    any asked for one) and made once it is done."""
    asked: dict[Widget, tuple[bool, bool]] = {}

    def gather(widget: Widget) -> Callable[..., Widget]:
        def refresh(*_regions: Any, layout: bool = False, recompose: bool = False, **_: Any) -> Widget:
            laid_out, recomposed = asked.get(widget, (False, False))
            asked[widget] = (laid_out or layout, recomposed or recompose)
            return widget

        return refresh

    patched: list[Widget] = []
    try:
        for widget in _widgets(root):
            if "refresh" not in vars(widget):  # not already gathered (a restyle within one)
                setattr(widget, "refresh", gather(widget))  # noqa: B010 (mypy: a method)
                patched.append(widget)
        app.stylesheet.update(root, animate=animate)
    finally:
        for widget in patched:
            del vars(widget)["refresh"]
        for widget, (layout, recompose) in asked.items():
            widget.refresh(layout=layout, recompose=recompose)


def _widgets(root: DOMNode) -> list[Widget]:
    """Every widget under ``root`` (``root`` too), and their scroll bars: restyled with them,
    though outside the DOM."""
    widgets = list(root.walk_children(Widget, with_self=True))
    return widgets + [bar for widget in widgets for bar in widget._get_virtual_dom()]


def _repaint_once(screen: Screen[Any]) -> None:
    """Paint the restyled screen once, whole. Each widget restyled asks for its own repaint
    too, by a message to the screen that comes after the screen has painted itself in the new
    colours: Textual painted everything twice (on the run screen 19 KB more to the terminal,
    the same again, ahead of anything new such as the theme's notice). Their caches were
    cleared as they were restyled, so the one paint draws each of them anew."""
    screen.refresh()
    for widget in _widgets(screen):
        if widget is not screen and widget.is_mounted:
            widget._repaint_required = False


class Restyler:
    def __init__(self) -> None:
        # Rules by the theme's variables, for the stylesheet's sources as last seen.
        self._sources: Hashable = None
        self._parsed: dict[Hashable, list[RuleSet]] = {}
        self._stale: WeakSet[Screen[Any]] = WeakSet()

    def refresh_css(self, app: App[Any], animate: bool) -> None:
        """``App.refresh_css`` for the stylesheet's variables now: see the module's docstring."""
        stylesheet = app.stylesheet
        variables = app.get_css_variables()
        # A widget class first mounted since brings its own CSS: what was parsed before is
        # stale for every theme, and dropped (so the cache holds a theme's rules at most once).
        sources = tuple(stylesheet.source.items())
        if sources != self._sources:
            self._sources = sources
            self._parsed.clear()
        key = frozenset(variables.items())
        stylesheet.set_variables(variables)
        if key in self._parsed:
            stylesheet._rules = self._parsed[key]
            stylesheet._rules_map = None
            stylesheet._require_parse = False
        else:
            stylesheet.reparse()
            self._parsed[key] = stylesheet.rules
        _restyle(app, app, animate)  # the app and its top screen but a system one (the palette)
        try:
            top = app.screen
        except ScreenError:  # no screen yet: the theme set as the app is made
            return
        seen = on_view(app)
        for screen in seen:
            if screen not in app.children:
                _restyle(app, screen, animate)
        if top.is_mounted:
            top._refresh_layout(app.size)
            _repaint_once(top)
        for screen in seen:
            self._restyled(app, screen)
        self._stale.update(screen for screen in app.screen_stack if screen not in seen)

    def screen_shown(self, app: App[Any]) -> None:
        """Restyle what has come into view stale (a screen under the one just closed)."""
        for screen in on_view(app):
            if screen in self._stale:
                _restyle(app, screen, animate=False)
                self._restyled(app, screen)

    def _restyled(self, app: App[Any], screen: Screen[Any]) -> None:
        self._stale.discard(screen)
        # As Textual's own refresh_css records it: its modes restyle a screen whose count lags.
        screen._css_update_count = app._css_update_count
