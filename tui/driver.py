"""Textual's terminal driver for Linux and macOS, with Escape on time.

A lone ESC is the Escape key only once ESCDELAY has passed with nothing after it: until
then it may be the start of an arrow's sequence. Textual's parser knows when that time is
up, but its input thread looks only when its wait for input ends, and that wait is 100 ms:
so Escape took 100 ms or more whatever ESCDELAY said (measured: 109 ms for a bare Textual
app, ours too with ESCDELAY at 50). This driver's input thread waits no longer than the
time the parser has left, so Escape comes ESCDELAY after the key.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

IDLE_WAIT_S = 0.1  # Textual's wait with nothing pending: how often the thread sees its exit flag


def input_wait(parser: XTermParser) -> float:
    """How long the input thread may wait for the terminal: no longer than the parser has left
    before a lone ESC it holds is the Escape key."""
    due: float | None = getattr(parser, "_timeout_time", None)
    return IDLE_WAIT_S if due is None else min(IDLE_WAIT_S, max(0.0, due - get_time()))


class PromptEscapeDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        """Textual's input loop (textual 8.2, ``LinuxDriver.run_input_thread``), but for the
        wait on the terminal, which ends when the parser's pending timeout does."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for last, (_, mask) in loop_last(ready):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(self.fileno, 1024 * 4), final=final and last)
                    if not data:  # stdin is a pipe
                        break
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(input_wait(parser)))
            selector.unregister(self.fileno)
            process(selector.select(IDLE_WAIT_S), final=True)
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass
