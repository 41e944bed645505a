"""The events a run emits, and their one-line JSON form.

Both front ends (the TUI and the headless CLI) consume these, the run
recording stores them, and ``meetup-lab run --headless --json`` prints them,
one object per line, in exactly the form :func:`to_json` writes.
Every event carries ``time``: seconds since the run started.
"""

from __future__ import annotations

import base64
import json
import types
import typing
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from labs.jsonfile import dumps

if TYPE_CHECKING:
    import numpy as np  # imported where frames are made or read: listing runs needs none


@dataclass(frozen=True)
class Started:
    lab: str
    run_id: str
    params: dict[str, Any]
    device: str
    seed: int
    total_steps: int | None = None
    run_dir: str = ""
    time: float = 0.0


@dataclass(frozen=True)
class Metric:
    step: int
    values: dict[str, float]
    time: float = 0.0


@dataclass(frozen=True, eq=False)
class Frame:
    """A 2-D field for a heatmap; ``signed`` asks for a diverging colour map.

    ``data`` of shape (rows, cols, 3) is an RGB picture in [0, 1] instead,
    drawn in its own colours.

    ``points`` are markers drawn over it, one row (x, y, class) each, x and y
    from 0 to 1 across and down the field; ``contour`` asks for the line where
    the field crosses that value (a decision boundary, say).

    ``caption`` says in words what the rows and columns are, where the name
    cannot ("rows: true digit 0-9, columns: predicted digit 0-9"); ``labels``
    are short texts written over the field, (x, y, text) placed as points are:
    the digit of each tile of a mosaic. Both are left out of the JSON form
    when empty, and a record without them reads as empty.
    """

    name: str
    step: int
    data: np.ndarray
    signed: bool = False
    points: np.ndarray | None = None
    contour: float | None = None
    caption: str = ""
    labels: tuple[tuple[float, float, str], ...] = ()
    time: float = 0.0


@dataclass(frozen=True)
class Log:
    message: str
    level: str = "info"
    time: float = 0.0


@dataclass(frozen=True)
class Stage:
    """What the run is doing before its first result ("starting TensorFlow", "compiling the
    stepper"): viewers show it with its time so far, until the first metric or view."""

    name: str
    time: float = 0.0


@dataclass(frozen=True)
class Queued:
    """The run waits for its devices (``devices``, as ``cpu`` or ``gpu0 gpu1``) before its
    process starts: ``ahead`` runs are before it in line (0: it waits for a running one)."""

    devices: str
    ahead: int
    time: float = 0.0


@dataclass(frozen=True)
class Paused:
    """The run was held (``held``) or let go by a control; every viewer sees it."""

    held: bool
    time: float = 0.0


@dataclass(frozen=True)
class Artifact:
    path: str  # relative to the run folder
    description: str
    time: float = 0.0


# The most points a line is drawn with, a Chart's series or a metric's sparkline: a panel is
# never wider, so more would not show. The engine thins a Chart's lines to it; viewers keep it.
MAX_POINTS = 400


@dataclass(frozen=True)
class Chart:
    """Lines of y against x, one per series: loss against seconds, one line per batch size.

    Each chart event carries the whole chart so far; a viewer shows the latest
    of each name, as it does frames.
    """

    name: str
    x_label: str
    y_label: str
    series: dict[str, tuple[tuple[float, float], ...]]
    time: float = 0.0


@dataclass(frozen=True)
class Table:
    """Rows of results under named columns; the latest of each name is the one that counts."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | float | int | None, ...], ...]
    time: float = 0.0


@dataclass(frozen=True)
class GpuSample:
    index: int
    name: str
    util_pct: float | None
    mem_used_mb: float | None
    mem_total_mb: float | None


@dataclass(frozen=True)
class DeviceSample:
    """Utilisation; ``None`` anywhere means "N/A" (no GPU, no driver, no NVML)."""

    process_cpu_pct: float | None
    process_rss_mb: float | None
    machine_cpu_pct: float | None
    machine_ram_pct: float | None
    gpus: tuple[GpuSample, ...] = ()
    time: float = 0.0


@dataclass(frozen=True)
class Finished:
    summary: dict[str, Any]
    time: float = 0.0


@dataclass(frozen=True)
class Failed:
    """``kind`` is exception, crash, oom or start (the run never began)."""

    kind: str
    reason: str
    log_tail: tuple[str, ...] = ()
    time: float = 0.0


@dataclass(frozen=True)
class Cancelled:
    reason: str = "cancelled by the user"
    time: float = 0.0


@dataclass(frozen=True)
class Interrupted:
    """The run's process was killed from outside (SIGKILL, the OOM killer)."""

    reason: str
    log_tail: tuple[str, ...] = ()
    time: float = 0.0


Event = (
    Started
    | Metric
    | Frame
    | Chart
    | Table
    | Log
    | Stage
    | Queued
    | Paused
    | Artifact
    | DeviceSample
    | Finished
    | Failed
    | Cancelled
    | Interrupted
)
VIEWS = (Frame, Chart, Table)  # what a run screen shows in its main panel, one name at a time
TERMINAL = (Finished, Failed, Cancelled, Interrupted)

_TYPES: dict[str, type] = {
    "started": Started,
    "metric": Metric,
    "frame": Frame,
    "chart": Chart,
    "table": Table,
    "log": Log,
    "stage": Stage,
    "queued": Queued,
    "paused": Paused,
    "artifact": Artifact,
    "device": DeviceSample,
    "finished": Finished,
    "failed": Failed,
    "cancelled": Cancelled,
    "interrupted": Interrupted,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}

# Which terminal event leads to which recorded status.
STATUS = {Finished: "finished", Failed: "failed", Cancelled: "cancelled", Interrupted: "interrupted"}


R = TypeVar("R")


def drain(steps: Generator[Event, None, R], hear: Callable[[Event], None] | None = None) -> R:
    """Run a generator of events to its end and give its result: for callers with
    no one to show the events to (a worker process, a benchmark), ``hear`` aside."""
    while True:
        try:
            event = next(steps)
        except StopIteration as done:
            result: R = done.value
            return result
        if hear is not None:
            hear(event)


def with_time(event: Event, time: float) -> Event:
    """The same event stamped with seconds since the run started."""
    return type(event)(**{**{f.name: getattr(event, f.name) for f in fields(event)}, "time": time})


def to_dict(event: Event) -> dict[str, Any]:
    import numpy as np

    if isinstance(event, Frame):
        data = np.asarray(event.data, dtype=np.float32)
        # A frame is for the eye (a 32-level colour map): half precision is
        # plenty and halves what is sent and recorded, where the values fit.
        finite = data[np.isfinite(data)]
        if finite.size == 0 or np.abs(finite).max() < 6e4:
            data = data.astype(np.float16)
        obj = {
            "type": "frame",
            "name": event.name,
            "step": event.step,
            "signed": event.signed,
            "time": event.time,
            "shape": list(data.shape),
            "dtype": data.dtype.name,
            "data": base64.b64encode(data.tobytes()).decode("ascii"),
        }
        if event.points is not None:
            obj["points"] = _encode_points(event.points)
        if event.contour is not None:
            obj["contour"] = event.contour
        if event.caption:
            obj["caption"] = event.caption
        if event.labels:
            obj["labels"] = [list(label) for label in event.labels]
        return obj
    return {"type": _NAMES[type(event)], **asdict(event)}


def _encode_points(points: np.ndarray) -> str:
    import numpy as np

    # 256 positions a side is finer than any terminal panel: a byte a coordinate.
    xy = np.rint(np.clip(np.asarray(points[:, :2], np.float64), 0, 1) * 255)
    packed = np.column_stack([xy, points[:, 2]]).astype(np.uint8)
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _decode_points(text: str) -> np.ndarray:
    import numpy as np

    packed = np.frombuffer(base64.b64decode(text), np.uint8).reshape(-1, 3).astype(np.float32)
    packed[:, :2] /= 255
    return packed


def to_json(event: Event) -> str:
    """One line of strict JSON: a number that is not finite is written as null."""
    return dumps(to_dict(event), separators=(",", ":"))


def from_dict(obj: dict[str, Any]) -> Event:
    """The event an object describes; ValueError for anything that is not one.

    A record may be damaged in any way (hand edits, a torn write, a bad byte): a
    field of the wrong type is refused here, so no reader meets it later.
    """
    try:
        event = _build(dict(obj))
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"not an event: {exc}") from None
    problem = _problem(event)
    if problem is not None:
        raise ValueError(f"not a {_NAMES[type(event)]} event: {problem}")
    return event


def _build(obj: dict[str, Any]) -> Event:
    import numpy as np

    cls = _TYPES[obj.pop("type")]
    if cls is Frame:
        shape = tuple(obj.pop("shape"))
        raw = base64.b64decode(obj.pop("data"))
        dtype = np.dtype(obj.pop("dtype", "float32"))
        obj["data"] = np.frombuffer(raw, dtype=dtype).reshape(shape).astype(np.float32)
        if "points" in obj:
            obj["points"] = _decode_points(obj["points"])
        if "labels" in obj:
            obj["labels"] = tuple(tuple(label) for label in obj["labels"])
    if cls is Metric:
        # A value that was not finite is written as null (strict JSON): it is left out.
        obj["values"] = {k: v for k, v in obj["values"].items() if v is not None}
    if cls is Chart:
        obj["series"] = {k: tuple((x, y) for x, y in v) for k, v in obj["series"].items()}
    if cls is Table:
        obj["columns"] = tuple(obj["columns"])
        obj["rows"] = tuple(tuple(row) for row in obj["rows"])
    if cls is DeviceSample:
        obj["gpus"] = tuple(GpuSample(**g) for g in obj.get("gpus", ()))
    if cls in (Failed, Interrupted):
        obj["log_tail"] = tuple(obj.get("log_tail", ()))
    event: Event = cls(**obj)
    return event


def _problem(event: Event) -> str | None:
    hints = _hints(type(event))
    for f in fields(event):
        if not _conforms(getattr(event, f.name), hints[f.name]):
            return f"{f.name!r} is {getattr(event, f.name)!r:.60}"
    if isinstance(event, Table) and any(len(row) != len(event.columns) for row in event.rows):
        return "a row's length is not the number of columns"
    if isinstance(event, Frame) and (event.data.ndim not in (2, 3) or event.data.size == 0):
        return f"data of shape {event.data.shape}"
    return None


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The field types of an event class (the annotations are strings until resolved)."""
    if cls not in _HINTS:
        namespace: dict[str, Any] = {}
        if cls is Frame:  # its arrays' type: NumPy, imported only now
            import numpy as np

            namespace["np"] = np
        _HINTS[cls] = typing.get_type_hints(cls, localns=namespace)
    return _HINTS[cls]


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a decoded value has the type a field declares (containers checked through)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return any(_conforms(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is dict:
        return isinstance(value, dict) and all(
            _conforms(k, args[0]) and _conforms(v, args[1]) for k, v in value.items()
        )
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(_conforms(v, a) for v, a in zip(value, args, strict=True))
    return isinstance(value, origin or hint)


def from_json(line: str) -> Event:
    return from_dict(json.loads(line))
