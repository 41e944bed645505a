"""The op build cache shared by runs side by side: the same library is compiled once."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

from labs.customop import build
from tests.support import REPO, cli_env

BUILD = """
import sys
from pathlib import Path
from labs import events as ev
from labs.customop import build
steps = build.build(Path(sys.argv[1]), Path(sys.argv[2]))
try:
    while True:
        event = next(steps)
        if isinstance(event, ev.Log) and event.message.startswith("build: "):
            print(event.message.split(" ", 2)[1], flush=True)
except StopIteration as done:
    print("library", done.value.library, flush=True)
"""


@pytest.mark.compiler
@pytest.mark.slow
def test_two_runs_building_the_same_op_at_once_compile_it_once(tmp_path: Path) -> None:
    source, cache = REPO / "labs" / "customop" / "ops" / "zero_out.cc", tmp_path / "cache"
    cache.mkdir()
    library = build.library_path(source, cache)
    # The test holds the library's lock until both builds wait for it: they overlap for sure.
    with open(library.with_suffix(".lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        builds = [
            subprocess.Popen(
                [sys.executable, "-c", BUILD, str(source), str(cache)],
                env=cli_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # TensorFlow's start-up lines
                text=True,
            )
            for _ in range(2)
        ]
        first = [process.stdout.readline().split() for process in builds]  # type: ignore[union-attr]
        assert [words[:1] for words in first] == [["waiting"], ["waiting"]], first
    rest = [process.communicate(timeout=600)[0].split() for process in builds]
    said = [a + b for a, b in zip(first, rest, strict=True)]
    assert [process.returncode for process in builds] == [0, 0], said
    # One compiled and wrote it; the other waited for it and took it.
    assert sorted(words.count("wrote") for words in said) == [0, 1], said
    assert sorted(words.count("cached") for words in said) == [0, 1], said
    assert {words[words.index("library") + 1] for words in said} == {str(library)}
    assert library.is_file() and not list(cache.glob("*.partial"))
