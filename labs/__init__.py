"""The lab engine: parameters, events, the runner and run recording. No UI imports here."""
