"""Every command line the docs show parses against the real CLI, and names real labs and parameters.

The docs are README.md, docs/**/*.md and benchmarks/README.md. A command line is

- a line of a ``sh``, ``bash``, ``shell`` or ``console`` fenced block, or a ``$ `` prompt in
  any fenced block, split as a shell would (:mod:`shlex`: quotes, a ``#`` comment, a trailing
  ``\\`` joining the next line), where a command of it (between ``&&``, ``||``, ``|``, ``;``)
  is ``meetup-lab`` or a path to it (``.venv/bin/meetup-lab``), after any ``NAME=value``;
- an inline code span that starts with ``meetup-lab`` and a word. One that names a command
  alone (``meetup-lab attach``) is that command's name, not a line to run: the command must
  exist, and its arguments are not asked for.

Each is parsed by the CLI's own click command (``typer.main.get_command``), group by group
(``make_context``, ``resolve_command``), invoking nothing. Then, without TensorFlow, what the
CLI would check before a run: the lab it names exists (``get_lab``, or the lab of one of
this repository's example packages, examples/*/pyproject.toml, which a doc installs before it
runs it), each ``--set`` and
``--sweep`` names a parameter of that lab, each value parses as the parameter's own
(:meth:`ParamSpec.parse`, which the CLI's checks use) and the seed is in range. Checks that
depend on the machine (a device) or on more than one value (a stable ``dt``) are not made.

A word in capitals (``LAB``, ``RUN``, ``ID``, ``FOLDER``) is a placeholder the reader fills in:
it is not checked as a lab, a parameter or a value; a one-letter one (``N``, ``I``) stands for
a number.
"""

from __future__ import annotations

import functools
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.core import TyperGroup

from labs.params import ParamError, ParamSpec, check_seed, parse_assignments
from labs.registry import LABS_GROUP, get_lab, resolve
from labs.sweep import parse_axis
from tests.support import REPO
from tui.cli import app

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest and mypy bring it on 3.10
    import tomli as tomllib

ROOT = REPO
SHELL_BLOCKS = {"sh", "bash", "shell", "console"}
SEPARATORS = {"&&", "||", "|", ";", "&"}
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
MENTION = re.compile(r"(?:^|[\s/;&|])meetup-lab(?:\s|$)")  # a line that may run meetup-lab
FEWEST = 20  # the docs show more than this many; fewer means the finder lost them


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "benchmarks" / "README.md"]


@dataclass(frozen=True)
class Shown:
    """One ``meetup-lab`` command as a doc shows it."""

    where: str  # file:line
    text: str  # the line (or code span) it is part of
    words: tuple[str, ...] | None  # what follows ``meetup-lab``; None where the line does not split
    inline: bool  # a code span in the text, not a line of a block

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def _where(path: Path, line: int) -> str:
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown}:{line}"


def _commands(path: Path, line: int, text: str, inline: bool) -> list[Shown]:
    """The ``meetup-lab`` commands of one shell line."""
    where = _where(path, line)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # "No closing quotation" and the like
        return [Shown(where, text, None, inline)] if MENTION.search(text) else []
    commands: list[list[str]] = [[]]
    for word in words:
        if word in SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)
    found = []
    for command in commands:
        while command and ASSIGNMENT.fullmatch(command[0]):  # MEETUP_LAB_CPU_RUNS=1 meetup-lab ...
            command = command[1:]
        if command and command[0].rsplit("/", 1)[-1] == "meetup-lab":
            found.append(Shown(where, text, tuple(command[1:]), inline))
    return found


def command_lines(path: Path) -> list[Shown]:
    """Every ``meetup-lab`` command the markdown file shows, in blocks and in the text."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Shown] = []
    text_lines: list[tuple[int, str]] = []  # outside the fenced blocks
    block: str | None = None  # the open fenced block's language ("" for none), or None outside one
    i = 0
    while i < len(lines):
        number, stripped = i + 1, lines[i].strip()
        i += 1
        if stripped.startswith("```"):
            block = (stripped[3:].split() or [""])[0] if block is None else None
            continue
        if block is None:
            text_lines.append((number, lines[number - 1]))
            continue
        prompt = stripped.startswith("$ ")
        if not prompt and block not in SHELL_BLOCKS:
            continue  # output, a synopsis, a capture
        command = stripped[2:] if prompt else stripped
        while command.endswith("\\") and i < len(lines):  # a continuation: the next line is this one's
            command = command[:-1] + " " + lines[i].strip().removeprefix("> ")
            i += 1
        found += _commands(path, number, command, inline=False)
    found += _spans(path, text_lines)
    return found


def _spans(path: Path, text_lines: list[tuple[int, str]]) -> list[Shown]:
    """The code spans that start with ``meetup-lab`` and a word, paragraph by paragraph (a span
    may go on over a line break)."""
    paragraphs: list[list[tuple[int, str]]] = [[]]
    for number, line in text_lines:
        if line.strip():
            paragraphs[-1].append((number, line))
        elif paragraphs[-1]:
            paragraphs.append([])
    found = []
    for paragraph in filter(None, paragraphs):
        text = "\n".join(line for _, line in paragraph)
        for match in re.finditer(r"`([^`]+)`", text):
            span = " ".join(match.group(1).split())
            if re.match(r"meetup-lab \S", span):
                line = paragraph[0][0] + text.count("\n", 0, match.start())
                found += _commands(path, line, span, inline=True)
    return found


def all_shown() -> list[Shown]:
    return [shown for path in doc_files() for shown in command_lines(path)]


@functools.cache
def _cli() -> Any:
    return typer.main.get_command(app)


def _is_placeholder(value: object) -> bool:
    return isinstance(value, str) and PLACEHOLDER.fullmatch(value) is not None


def _filled(word: str) -> str:
    """What the CLI is given for a word: a one-letter placeholder (N, I) is a number."""
    return "1" if _is_placeholder(word) and len(word) == 1 else word


def problem(words: tuple[str, ...], name_only: bool = False) -> str | None:
    """What is wrong with ``meetup-lab WORDS``, or None. ``name_only``: the words name a command."""
    cli = _cli()
    args = [_filled(word) for word in words]
    try:
        ctx = cli.make_context("meetup-lab", args, resilient_parsing=False)
        while isinstance(ctx.command, TyperGroup):
            # What the group left for its command: as TyperGroup.invoke takes it.
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:
                break
            name, command, rest = ctx.command.resolve_command(ctx, rest)
            if name_only:
                return None
            ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=False)
    except typer.Exit as exc:  # --help: shown, and an exit
        return None if exc.exit_code == 0 else f"exits {exc.exit_code}"
    except typer.TyperException as exc:  # click's UsageError, BadParameter and the rest
        context = getattr(exc, "ctx", None)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return f"{context.command_path}: {message}" if context is not None else message
    try:
        _check_values(ctx.params)
    except (LookupError, ParamError) as exc:
        return f"{ctx.command_path}: {exc}"
    return None


@functools.cache
def example_labs() -> dict[str, dict[str, ParamSpec]]:
    """The parameters of each lab this repository's example packages declare (the
    ``meetup_lab.labs`` entry points of examples/*/pyproject.toml), by lab name."""
    found = {}
    for project in sorted((ROOT / "examples").glob("*/pyproject.toml")):
        points = tomllib.loads(project.read_text(encoding="utf-8"))["project"].get("entry-points", {})
        for ref in points.get(LABS_GROUP, {}).values():
            name, specs = _example_lab(project.parent, ref)
            found[name] = specs
    return found


def _example_lab(folder: Path, ref: str) -> tuple[str, dict[str, ParamSpec]]:
    """An example package's lab, loaded from its source: the folder is on sys.path only
    meanwhile, and its modules are dropped after, so an installed copy (tests/engine/test_plugins.py
    installs one) is not shadowed by this one."""
    sys.path.insert(0, str(folder))
    try:
        lab = resolve(ref)
        return lab.name, {spec.name: spec for spec in lab.specs}
    finally:
        sys.path.remove(str(folder))
        for name, module in list(sys.modules.items()):
            if Path(getattr(module, "__file__", None) or "/").is_relative_to(folder):
                del sys.modules[name]


def _lab_params(name: str) -> dict[str, ParamSpec]:
    """A lab's parameters by name; LookupError, as the CLI's, for a lab there is not."""
    try:
        return {spec.name: spec for spec in get_lab(name).specs}
    except LookupError:
        if name in example_labs():
            return example_labs()[name]
        raise


def _check_values(params: dict[str, Any]) -> None:
    """What the CLI checks of a lab's name, parameters and seed before a run (without TensorFlow)."""
    if "seed" in params:
        check_seed(params["seed"])
    lab_name = params.get("lab")
    # A lab by its import path is a module of the reader's own (`mylab:LAB`): not here to load.
    if not isinstance(lab_name, str) or _is_placeholder(lab_name) or ":" in lab_name:
        return
    specs = _lab_params(lab_name)

    def spec_of(name: str, flag: str) -> ParamSpec:
        if name not in specs:
            raise ParamError(
                f"{flag}: {lab_name} has no parameter {name!r}: valid parameters are {', '.join(specs)}"
            )
        return specs[name]

    for name, value in parse_assignments(params.get("set_") or []).items():
        if not _is_placeholder(name):
            spec = spec_of(name, "--set")
            if not _is_placeholder(value):
                spec.parse(value)
    for text in params.get("sweep") or []:
        axis = parse_axis(text)
        if not _is_placeholder(axis.name):
            spec = spec_of(axis.name, "--sweep")
            for value in axis.values:
                if not _is_placeholder(value):
                    spec.parse(value)


def failure(shown: Shown) -> str | None:
    """Why a shown command does not parse, as a line naming the file and line, or None."""
    if shown.words is None:
        error = "the line does not split as a shell line (a quote left open?)"
    else:
        error = problem(shown.words, name_only=shown.inline and len(shown.words) == 1)
    return None if error is None else f"{shown.where}: `{shown.text}`: {error}"


def synopsis_problems(path: Path) -> list[str]:
    """What is wrong with the synopsis of the commands (the first fenced block that starts with
    ``meetup-lab``, as docs/cli.md has): each command it names must exist, and each ``--option``
    shown for it (on its lines and those indented under it) must be one of that command's."""
    lines = path.read_text(encoding="utf-8").split("\n")
    start = next(
        i for i, line in enumerate(lines) if line.startswith("meetup-lab") and lines[i - 1].startswith("```")
    )
    entries: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines[start:], start + 1):
        if line.startswith("```"):
            break
        if line.startswith("meetup-lab"):
            entries.append((number, [line]))
        else:
            entries[-1][1].append(line)
    cli = _cli()
    ctx = cli.make_context("meetup-lab", [], resilient_parsing=False)
    problems = []
    for number, entry in entries:
        named = re.match(r"meetup-lab ([a-z][a-z-]*)\b", entry[0])  # one space: a command; more: what it does
        name = None if named is None else named.group(1)
        command = cli if name is None else cli.get_command(ctx, name)
        if command is None:
            problems.append(f"{_where(path, number)}: no command {name!r}")
            continue
        options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for option in sorted(
            set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", " ".join(entry))) - options - {"--help"}
        ):
            problems.append(f"{_where(path, number)}: {command.name} has no option {option}")
    return problems


SHOWN = all_shown()


@pytest.mark.parametrize("shown", SHOWN, ids=str)
def test_every_command_line_the_docs_show_parses(shown: Shown) -> None:
    if (message := failure(shown)) is not None:
        pytest.fail(message, pytrace=False)


def test_the_docs_show_command_lines_and_they_are_found() -> None:
    assert len(SHOWN) >= FEWEST, [str(shown) for shown in SHOWN]
    files = {shown.where.rpartition(":")[0] for shown in SHOWN}
    assert {"README.md", "docs/cli.md"} <= files, files
    # Blocks and text both: a prompt in a block, a span in the text, a lab's own command.
    assert any(not shown.inline for shown in SHOWN) and any(shown.inline for shown in SHOWN)
    assert any(shown.words and shown.words[0] == "worker" for shown in SHOWN)


BAD = [
    ("$ meetup-lab run pde --headles", "No such option"),
    ("$ meetup-lab rn pde", "No such command 'rn'"),
    ("$ meetup-lab attach", "Missing argument"),
    ("$ meetup-lab run pde --seeds many", "Invalid value for '--seeds'"),
    ("$ meetup-lab run lava --headless", "unknown lab 'lava'"),
    ("$ meetup-lab params lava", "unknown lab 'lava'"),
    ("$ meetup-lab run pde --set nosuch=1", "pde has no parameter 'nosuch'"),
    ("$ meetup-lab run pde --set grid", "is not of the form name=value"),
    ("$ meetup-lab run pde --set grid=2", "grid=2 is out of range"),
    ("$ meetup-lab run pde --set equation=lava", "equation='lava' is not valid"),
    ("$ meetup-lab run pde --sweep equation=heat,lava", "equation='lava' is not valid"),
    ("$ meetup-lab run pde --sweep nosuch=1,2", "pde has no parameter 'nosuch'"),
    ("$ meetup-lab run pde --seed -1", "seed=-1 is out of range"),
    ("$ meetup-lab worker --cluster cluster.json --index x", "Invalid value for '--index'"),
    ("$ meetup-lab predict", "Missing argument"),
    ("$ meetup-lab run pde --set 'grid=64", "does not split"),
]


@pytest.mark.parametrize(("line", "error"), BAD, ids=[line for line, _ in BAD])
def test_a_bad_command_line_planted_in_a_doc_is_refused(tmp_path: Path, line: str, error: str) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"# A page\n\nIt goes:\n\n```text\n{line}\nmeetup-lab: the output\n```\n")
    [shown] = command_lines(doc)
    message = failure(shown)
    assert message is not None, f"{line}: passed"
    assert message.startswith(f"{doc}:6: `{line.removeprefix('$ ')}`: "), message
    assert error in message, message


def test_shell_lines_spans_and_placeholders_are_read_as_a_shell_and_a_reader_would(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Run `meetup-lab run pde --set\ngrid=2` here, or `meetup-lab lst`; `meetup-lab` is the name.\n"
        "\n"
        "```sh\n"
        "ls && MEETUP_LAB_CPU_RUNS=1 meetup-lab run pde --set grid=64 | head  # a comment\n"
        ".venv/bin/meetup-lab run pde \\\n"
        "  --set dt=abc\n"
        "echo meetup-lab list\n"
        "```\n"
        "\n"
        "```console\n"
        "$ meetup-lab params LAB; meetup-lab worker --cluster FILE --index I\n"
        "```\n"
    )
    shown = command_lines(doc)
    assert [(s.where.rpartition(":")[2], s.words, s.inline) for s in shown] == [
        ("5", ("run", "pde", "--set", "grid=64"), False),
        ("6", ("run", "pde", "--set", "dt=abc"), False),
        ("12", ("params", "LAB"), False),
        ("12", ("worker", "--cluster", "FILE", "--index", "I"), False),
        ("1", ("run", "pde", "--set", "grid=2"), True),
        ("2", ("lst",), True),
    ]
    verdicts = [failure(s) for s in shown]
    assert verdicts[0] is None and verdicts[2] is None and verdicts[3] is None, verdicts
    assert verdicts[1] is not None and "dt='abc' is not valid" in verdicts[1]
    assert verdicts[4] is not None and "grid=2 is out of range" in verdicts[4]
    assert verdicts[5] is not None and "No such command 'lst'" in verdicts[5]


def test_the_command_synopsis_names_real_commands_and_options(tmp_path: Path) -> None:
    assert synopsis_problems(ROOT / "docs" / "cli.md") == []
    doc = tmp_path / "cli.md"
    doc.write_text(
        "# The command line\n\n```text\n"
        "meetup-lab                  open the TUI\n"
        "meetup-lab run LAB [--set name=value] [--colour C]\n"
        "                   [--headless]   --headless: in this terminal\n"
        "meetup-lab launch LAB       no such command\n"
        "```\n"
    )
    assert synopsis_problems(doc) == [f"{doc}:5: run has no option --colour", f"{doc}:7: no command 'launch'"]


def test_a_lab_of_an_example_package_is_checked_by_its_own_parameters() -> None:
    assert problem(("run", "line", "--set", "steps=500")) is None
    assert "line has no parameter 'grid'" in str(problem(("run", "line", "--set", "grid=64")))
    assert "steps=0 is out of range" in str(problem(("run", "line", "--set", "steps=0")))
    # Loaded from its source, and let go again.
    examples = ROOT / "examples"
    assert not any(
        Path(getattr(m, "__file__", None) or "/").is_relative_to(examples) for m in sys.modules.values()
    )
