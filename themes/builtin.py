"""The Textual themes of meetup-lab, registered by the app at start-up."""

from __future__ import annotations

from textual.theme import Theme

MEETUP_DARK = Theme(
    name="meetup-dark",
    primary="#4c9be8",
    secondary="#7e57c2",
    accent="#ffb74d",
    warning="#ffa62b",
    error="#ef5350",
    success="#66bb6a",
    foreground="#e0e0e0",
    background="#14161a",
    surface="#1d2026",
    panel="#262a31",
    dark=True,
)
"""The default: a calm dark theme for long sessions over SSH."""

MEETUP_LIGHT = Theme(
    name="meetup-light",
    primary="#1565c0",
    secondary="#6a1b9a",
    accent="#ef6c00",
    warning="#e65100",
    error="#c62828",
    success="#2e7d32",
    foreground="#1f2328",
    background="#f7f7f5",
    surface="#ececea",
    panel="#dedcd8",
    dark=False,
)
"""For bright rooms and projectors."""

MEETUP_CONTRAST = Theme(
    name="meetup-contrast",
    ansi=True,
    primary="ansi_bright_cyan",
    secondary="ansi_bright_magenta",
    accent="ansi_bright_yellow",
    warning="ansi_yellow",
    error="ansi_bright_red",
    success="ansi_bright_green",
    foreground="ansi_bright_white",
    background="ansi_black",
    surface="ansi_black",
    panel="ansi_black",
    boost="ansi_default",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_bright_white",
        "border-blurred": "ansi_white",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_bright_cyan",
        "input-cursor-background": "ansi_bright_white",
        "input-cursor-foreground": "ansi_black",
        "input-selection-background": "ansi_bright_blue",
        "footer-key-foreground": "ansi_bright_yellow",
    },
)
"""High contrast in the 16 ANSI colours: fit for 16-colour terminals."""

THEMES: tuple[Theme, ...] = (MEETUP_DARK, MEETUP_LIGHT, MEETUP_CONTRAST)
DEFAULT_THEME = MEETUP_DARK.name
