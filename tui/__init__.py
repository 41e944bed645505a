"""The Textual front end, the headless consumer and the `meetup-lab` CLI."""
