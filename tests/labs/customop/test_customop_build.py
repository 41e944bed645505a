"""The op build cache shared by runs side by side: the same library is compiled once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    builds = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD, str(source), str(cache)],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    said = [build.communicate(timeout=600)[0].split() for build in builds]
    assert [build.returncode for build in builds] == [0, 0], said
    # One compiled and wrote it; the other waited for it, or found it already there.
    assert sorted(words.count("wrote") for words in said) == [0, 1], said
    assert any("waiting" in words or "cached" in words for words in said), said
    libraries = {words[words.index("library") + 1] for words in said}
    assert len(libraries) == 1 and Path(libraries.pop()).is_file()
    assert not list(cache.glob("*.partial"))
