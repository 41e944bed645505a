"""Compile a C++ TensorFlow op against the installed TensorFlow, cache it, load it.

The flags come from ``tf.sysconfig``: its include path, ``-D_GLIBCXX_USE_CXX11_ABI``
and ``--std`` (the ABI and C++ standard TensorFlow itself was built with) and its
link flags. A library is cached under a hash of the sources, the TensorFlow
version, the compiler's version and the command, so a rebuild happens only when
one of them changes.

An op with a CUDA half (``op.cu`` beside ``op.cc``) is built by nvcc in one
command: the ``.cu`` as CUDA, the ``.cc`` as C++ with ``GOOGLE_CUDA=1`` so that it
registers its GPU kernels too.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from labs import events as ev
from labs.context import RunError

# The op names a source registers, as the loader would see them (not through macros).
REGISTERED = re.compile(r'REGISTER_OP\(\s*"([^"]+)"\s*\)')
# TensorFlow's own headers warn about their deprecated mutex types, and Eigen's about
# std::hardware_destructive_interference_size, on every include: hundreds of lines
# that bury the user's warnings.
QUIET = ["-Wno-deprecated-declarations", "-Wno-interference-size"]
# The CUDA runtime linked into the library and kept to it: the kernels are registered
# with the runtime of the nvcc that compiled them, whatever CUDA TensorFlow was built
# with. It must come before TensorFlow's library on the line: that library exports a
# runtime stub of its own (which loads the CUDA of TensorFlow's build), and the symbols
# would bind to it. nvcc's own -lcudart_static comes last, too late.
STATIC_CUDART = ["-lcudart_static", "-Xlinker", "--exclude-libs=libcudart_static.a"]
# Every symbol defined at link time: a launcher the .cc declares and the .cu never
# instantiates is a link error with its name, not a failed load.
COMPLETE = ["-Xlinker", "-z", "-Xlinker", "defs"]
# "op.cc:(.text._Z...[_Z...]+0x5b): undefined reference to ...": the mangled place says nothing.
LOCK_POLL_S = 0.25  # how often a build waiting for another one's lock tries again
LOCK_SAY_EVERY = 20  # tries between its lines (5 s): each is a point where the run can stop
LINKER_PLACE = re.compile(r"^(\S+?):\(\.text\S*\+0x[0-9a-f]+\): ")
LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)


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


def cuda_compiler() -> str | None:
    """``$NVCC``, else nvcc on PATH; None without one."""
    found = os.environ.get("NVCC") or "nvcc"
    return shutil.which(found)


def cuda_release(nvcc: str) -> tuple[int, int] | None:
    """nvcc's CUDA release, (13, 0) from its "Cuda compilation tools, release 13.0, V13.0.88"."""
    text = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"release (\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def cuda_architectures(nvcc: str) -> list[int]:
    """The compute capabilities nvcc compiles for, as 75 for compute_75 (empty if it won't say)."""
    text = subprocess.run([nvcc, "--list-gpu-arch"], capture_output=True, text=True).stdout
    return sorted(int(n) for n in re.findall(r"compute_(\d+)", text))


def command(source: Path, output: Path, cuda: Path | None = None, arch: str | None = None) -> list[str]:
    """The compiler's command line; with ``cuda``, nvcc's, for GPU architecture ``arch``
    (nvcc's default when None)."""
    import tensorflow as tf

    flags, links = tf.sysconfig.get_compile_flags(), tf.sysconfig.get_link_flags()
    if cuda is None:
        return [compiler(), "-shared", "-fPIC", "-O2", str(source), "-o", str(output), *flags, *QUIET, *links]
    nvcc = cuda_compiler()
    if nvcc is None:
        raise RunError("no nvcc found: install the CUDA toolkit or set NVCC to one")
    return [
        nvcc,
        "-ccbin",
        compiler(),  # the host compiler the CPU build uses, $CXX included
        "-shared",
        "-O2",
        "-Xcompiler",
        ",".join(["-fPIC", *QUIET]),
        "-DGOOGLE_CUDA=1",
        *([f"-arch={arch}"] if arch else []),
        str(source),
        str(cuda),
        "-o",
        str(output),
        *flags,
        *STATIC_CUDART,
        *COMPLETE,
        *links,
    ]


def local_headers(sources: list[Path]) -> list[Path]:
    """The headers that ``sources`` include by ``#include "..."`` from their own folder, and
    theirs in turn: a change to one must rebuild, as a change to a source does."""
    found: list[Path] = []
    pending = list(sources)
    while pending:
        including = pending.pop()
        for name in LOCAL_INCLUDE.findall(including.read_text(errors="replace")):
            header = (including.parent / name).resolve()
            if header.is_file() and header not in found:
                found.append(header)
                pending.append(header)
    return sorted(found)


def _key(sources: list[Path], cmd: list[str], output: Path) -> str:
    import tensorflow as tf

    tools = [cmd[0], *(cmd[i + 1] for i, c in enumerate(cmd) if c == "-ccbin")]
    digest = hashlib.sha256()
    for tool in tools:
        digest.update(subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.encode())
    for source in [*sources, *local_headers(sources)]:
        digest.update(source.read_bytes())
    places = {*map(str, sources), str(output)}  # not the paths, which differ by place
    for part in (tf.__version__, *(c for c in cmd[1:] if c not in places)):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def library_path(source: Path, cache: Path, cuda: Path | None = None, arch: str | None = None) -> Path:
    """Where in ``cache`` the library built from these sources, this TensorFlow, compiler and
    flags lies (it may not be there yet)."""
    sources = [source] if cuda is None else [source, cuda]
    probe = cache / "x.so"
    name = source.stem if cuda is None else f"{source.stem}-cuda"
    return cache / f"{name}-{_key(sources, command(source, probe, cuda, arch), probe)}.so"


def build(
    source: Path, cache: Path, cuda: Path | None = None, arch: str | None = None
) -> Generator[ev.Event, None, Built]:
    """Compile ``source`` (with its CUDA half ``cuda``, if given) into ``cache``, or find it
    there, showing the command and its output."""
    sources = [source] if cuda is None else [source, cuda]
    for path in sources:
        if not path.is_file():
            raise RunError(f"{path}: no such file")
    cache.mkdir(parents=True, exist_ok=True)
    library = library_path(source, cache, cuda, arch)
    cmd = command(source, library, cuda, arch)
    if library.is_file():
        yield ev.Log(f"build: cached {library.name} (same sources, TensorFlow, compiler and flags)")
        return Built(library, cmd, cached=True)
    # Runs side by side (a sweep) may build the same library at once: one compiles, the others
    # wait for it and take what it wrote, rather than each compiling the same thing.
    with open(library.with_suffix(".lock"), "w") as lock:
        yield from _wait_for(lock, library)
        if library.is_file():
            yield ev.Log(f"build: cached {library.name} (built by another run meanwhile)")
            return Built(library, cmd, cached=True)
        partial = library.with_suffix(f".{os.getpid()}.partial")
        yield from _compile(sources, library, cmd, command(source, partial, cuda, arch), partial)
    return Built(library, cmd, cached=False)


def _wait_for(lock: IO[str], library: Path) -> Generator[ev.Event, None, None]:
    """Take the library's lock, saying so now and then while another build holds it: each
    line is a point where the run can be cancelled (or paused) while it waits."""
    for polls in itertools.count():
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if polls % LOCK_SAY_EVERY == 0:
                waited = polls * LOCK_POLL_S
                yield ev.Log(f"build: waiting for another build of {library.name} ({waited:.0f} s)")
            time.sleep(LOCK_POLL_S)


def _compile(
    sources: list[Path], library: Path, cmd: list[str], partial_cmd: list[str], partial: Path
) -> Generator[ev.Event, None, None]:
    """Run the compiler into ``partial``, then put it in place as ``library``. A run stopped
    meanwhile (the generator closed) stops the compiler too, and leaves no partial file."""
    yield ev.Log(f"build: {shlex.join(cmd)}")
    proc = subprocess.Popen(partial_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip())
            yield ev.Log(f"  {line.rstrip()}")
        if proc.wait() != 0:
            errors = [
                LINKER_PLACE.sub(r"\1: ", line)
                for line in lines
                if re.search(r"\berror\b|undefined reference", line)
            ] or lines
            shown = "\n".join(errors[:12])
            what = " + ".join(str(path) for path in sources)
            tool = "the compiler" if len(sources) == 1 else "nvcc"
            raise RunError(f"{tool} failed (exit {proc.returncode}) on {what}:\n{shown}")
        partial.replace(library)  # only a complete library enters the cache
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        partial.unlink(missing_ok=True)
    yield ev.Log(f"build: wrote {library}")


def built(source: Path, cache: Path, cuda: Path | None = None, arch: str | None = None) -> Built:
    """``build`` without watching its lines (benchmarks, tests)."""
    return ev.drain(build(source, cache, cuda, arch))


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


def op_names(library: Path) -> list[str]:
    """The ops a loaded library registered, by their full names (``Meetup>ZeroOut`` too).

    ``tf.load_op_library`` no longer says (its module lost ``OP_LIST``); the loader it
    calls still does, and loading a loaded library again only hands back its handle.
    """
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session as tf_session

    handle = tf_session.TF_LoadLibrary(str(library))
    try:
        return [op.name for op in op_def_pb2.OpList.FromString(tf_session.TF_GetOpList(handle)).op]
    finally:
        tf_session.TF_DeleteLibraryHandle(handle)


def clashes(source: Path, loaded: list[str]) -> list[str]:
    """The ops ``source`` registers that did not load because TensorFlow has one by that
    name already (the guide's ``Fact`` is one of TensorFlow's own): the loader drops them
    without a word."""
    from tensorflow.python.framework import op_def_registry

    return [n for n in registered(source) if n not in loaded and op_def_registry.get(n) is not None]


def registered(source: Path) -> list[str]:
    """The op names ``source`` passes to REGISTER_OP, as written (one made by a macro is missed)."""
    try:
        text = source.read_text(errors="replace")
    except OSError:
        return []
    return list(dict.fromkeys(REGISTERED.findall(text)))
