"""How long one experiment would take on 1..N devices, from measured speeds.

The model is the plainest one that the measurements support: a step over a
global batch B on n devices takes ``c·B/n`` of computation (c: seconds per
example on one device) plus ``a(n)`` of all-reduce. A ring all-reduce moves
2(n-1)/n of the gradient through each device, so ``a(n)`` is scaled from the
measured all-reduce at n_measured by that factor. Communication outweighs
computation from the first n where ``a(n) > c·B/n``.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR, DAY = 3600.0, 86400.0

# The talk's bands: how the time of one experiment shapes research.
BANDS = (
    (DAY, "interactive"),  # minutes to hours: try, look, try again
    (4 * DAY, "tolerable"),  # 1-4 days: run several in parallel
    (30 * DAY, "high-value only"),  # 1-4 weeks
    (float("inf"), "not attempted"),  # over a month
)


def band(seconds: float) -> str:
    return next(name for limit, name in BANDS if seconds <= limit)


def duration(seconds: float) -> str:
    """A duration in the unit a person would use."""
    for unit, size in (("d", DAY), ("h", HOUR), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def ring_factor(n: int) -> float:
    return 2 * (n - 1) / n


@dataclass(frozen=True)
class Measured:
    seconds_per_example: float  # computation on one device
    allreduce_seconds: float  # one all-reduce at ``devices``
    devices: int
    global_batch: int

    def allreduce(self, n: int) -> float:
        if n == 1 or self.devices == 1:
            return 0.0
        return self.allreduce_seconds * ring_factor(n) / ring_factor(self.devices)

    def step_seconds(self, n: int) -> float:
        return self.seconds_per_example * self.global_batch / n + self.allreduce(n)

    def break_even(self, limit: int = 1 << 20) -> int | None:
        """The fewest devices at which an all-reduce takes longer than the computation it serves."""
        n = 2
        while n <= limit:
            if self.allreduce(n) > self.seconds_per_example * self.global_batch / n:
                return n
            n *= 2
        return None


@dataclass(frozen=True)
class Row:
    devices: int
    seconds: float
    speedup: float
    cost: float
    band: str


def project(measured: Measured, examples: float, max_devices: int, price_per_device_hour: float) -> list[Row]:
    """The experiment (``examples`` = examples per epoch × epochs) on 1, 2, 4 … max_devices."""
    steps = examples / measured.global_batch
    one = steps * measured.step_seconds(1)
    rows = []
    n = 1
    while n <= max_devices:
        seconds = steps * measured.step_seconds(n)
        rows.append(Row(n, seconds, one / seconds, n * seconds / HOUR * price_per_device_hour, band(seconds)))
        n *= 2
    return rows


COLUMNS = ("devices", "time", "speed-up", "cost", "band")


def table_rows(rows: list[Row]) -> tuple[tuple[str | float | int | None, ...], ...]:
    return tuple(
        (r.devices, duration(r.seconds), round(r.speedup, 2), round(r.cost, 2), r.band) for r in rows
    )
