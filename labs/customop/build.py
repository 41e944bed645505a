"""Compile a C++ TensorFlow op against the installed TensorFlow, cache it, load it.

The flags come from ``tf.sysconfig``: its include path, ``-D_GLIBCXX_USE_CXX11_ABI``
and ``--std`` (the ABI and C++ standard TensorFlow itself was built with) and its
link flags. A library is cached under a hash of the source, the TensorFlow
version, the compiler's version and the command, so a rebuild happens only when
one of them changes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs import events as ev
from labs.context import RunError

# TensorFlow's own headers warn about their deprecated mutex types on every
# include: hundreds of lines that bury the user's warnings.
QUIET = ["-Wno-deprecated-declarations"]


@dataclass(frozen=True)
class Built:
    library: Path
    command: list[str]
    cached: bool


def compiler() -> str:
    """``$CXX``, else g++, else c++."""
    found = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not found or not shutil.which(found):
        raise RunError(
            "no C++ compiler found: install g++ (Debian/Ubuntu: apt install g++) or set CXX to one; "
            "TensorFlow ops are compiled C++"
        )
    return found


def command(source: Path, output: Path) -> list[str]:
    import tensorflow as tf

    flags = [*tf.sysconfig.get_compile_flags(), *QUIET]
    return [
        compiler(),
        "-shared",
        "-fPIC",
        "-O2",
        str(source),
        "-o",
        str(output),
        *flags,
        *tf.sysconfig.get_link_flags(),
    ]


def _key(source: Path, cmd: list[str]) -> str:
    import tensorflow as tf

    version = subprocess.run([cmd[0], "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    digest = hashlib.sha256(source.read_bytes())
    for part in (tf.__version__, *version, *cmd[1:4], *cmd[7:]):  # not the paths, which differ by place
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def build(source: Path, cache: Path) -> Generator[ev.Event, None, Built]:
    """Compile ``source`` into ``cache`` (or find it there), showing the command and its output."""
    if not source.is_file():
        raise RunError(f"source={source}: no such file")
    cache.mkdir(parents=True, exist_ok=True)
    probe = command(source, cache / "x.so")
    library = cache / f"{source.stem}-{_key(source, probe)}.so"
    cmd = command(source, library)
    if library.is_file():
        yield ev.Log(f"build: cached {library.name} (same source, TensorFlow, compiler and flags)")
        return Built(library, cmd, cached=True)
    yield ev.Log(f"build: {shlex.join(cmd)}")
    partial = library.with_suffix(".partial")
    cmd_partial = command(source, partial)
    proc = subprocess.Popen(cmd_partial, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        yield ev.Log(f"  {line.rstrip()}")
    if proc.wait() != 0:
        errors = [line for line in lines if re.search(r"\berror\b", line)] or lines
        shown = "\n".join(errors[:12])
        raise RunError(f"the compiler failed (exit {proc.returncode}) on {source}:\n{shown}")
    partial.replace(library)  # only a complete library enters the cache
    yield ev.Log(f"build: wrote {library}")
    return Built(library, cmd, cached=False)


def built(source: Path, cache: Path) -> Built:
    """``build`` without watching its lines (benchmarks, tests)."""
    return ev.drain(build(source, cache))


def load(library: Path) -> Any:
    """``tf.load_op_library``, with a load failure explained rather than raised raw."""
    import tensorflow as tf

    try:
        return tf.load_op_library(str(library))
    except (tf.errors.NotFoundError, tf.errors.AlreadyExistsError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            " (an undefined symbol usually means a kernel that is declared but not defined, or a library "
            "built against another TensorFlow or C++ ABI: rebuild against this one)"
            if "undefined symbol" in message
            else ""
        )
        raise RunError(f"cannot load {library.name}: {message}{hint}") from None


def op_names(library_module: Any) -> list[str]:
    """The ops a loaded library registered, by their CamelCase names.

    TensorFlow 2 no longer gives a loaded library's op list (``OP_LIST`` is gone);
    its module still carries one raw-op function per op, named like the op.
    """
    from tensorflow.python.framework import op_def_registry  # the registry the loader filled

    own = [
        n
        for n in dir(library_module)
        if getattr(getattr(library_module, n), "__module__", None) == library_module.__name__
    ]
    return [n for n in own if n[:1].isupper() and op_def_registry.get(n) is not None]


def input_count(name: str) -> int:
    from tensorflow.python.framework import op_def_registry

    return len(op_def_registry.get(name).input_arg)


def signature(name: str) -> str:
    """``Name(x: T, w: T) -> y: T; T in {float, double}`` from the registered OpDef."""
    from tensorflow.python.framework import dtypes, op_def_registry

    op = op_def_registry.get(name)

    def arg(a: Any) -> str:
        kind = a.type_attr or dtypes.as_dtype(a.type).name
        return f"{a.name}: {kind}"

    text = f"{name}({', '.join(arg(a) for a in op.input_arg)}) -> {', '.join(arg(a) for a in op.output_arg)}"
    for attr in op.attr:
        if attr.type == "type" and attr.allowed_values.list.type:
            allowed = ", ".join(dtypes.as_dtype(t).name for t in attr.allowed_values.list.type)
            text += f"; {attr.name} in {{{allowed}}}"
    return text
