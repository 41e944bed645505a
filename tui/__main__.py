"""`python -m tui` is `meetup-lab`."""

from tui.cli import main

main()
