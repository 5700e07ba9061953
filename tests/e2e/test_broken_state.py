"""A broken ``.mdsync/`` (issue 14, item 6): every command names the file and the way out in
one sentence, and ``mdsync sync --resync`` takes that way: it moves what is broken aside
(``.mdsync/broken-<time>/``, never deleted), rebuilds the state from both sides without a
duplicate page or a false conflict, and the next sync writes nothing. A live lock still
stops it, a journal's torn last line is no corruption, and a copy that is a folder is moved
aside too.

One sandbox for the module, a space per test; the real CLI; see tests/support/world.py.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import pytest

from mdsync.sandbox.app import create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.world import Run, World, assert_nothing_to_do, pushed, writes

SPACES = tuple(f"S{number}" for number in range(8))
PYTHON_ERRORS = re.compile(r"Traceback|\b\w*(Error|Exception)\b")


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_sandbox(spaces=SPACES)) as running:
        yield running


_spaces = count()


@pytest.fixture
def world(server: BackgroundServer, tmp_path: Path) -> Iterator[World]:
    (tmp_path / "project").mkdir()
    project = World(tmp_path / "project", server, space=SPACES[next(_spaces)])
    try:
        yield project
    finally:
        project.close()


def pushed_tree(world: World) -> None:
    world.write("intro.md", "# Introduction\n\nWelcome to the docs.\n")
    world.write("faq.md", "# FAQ\n\nQuestions and answers.\n")
    world.write("guides/README.md", "# Guides\n\nAll the guides.\n")
    world.write("guides/install.md", "# Install\n\nStep one.\n")
    pushed(world)


@pytest.fixture(scope="module")
def pushed_space(server: BackgroundServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A tree pushed once: the corruption cases only read its pages (each asserts it writes nothing)."""
    root = tmp_path_factory.mktemp("pushed") / "project"
    root.mkdir()
    project = World(root, server, space=SPACES[-1])
    try:
        pushed_tree(project)
        yield project
    finally:
        project.close()


@pytest.fixture
def copied(pushed_space: World, tmp_path: Path) -> Iterator[World]:
    """The pushed project copied to a folder of this test's own, against the same pages."""
    (tmp_path / "project").mkdir()
    project = World(tmp_path / "project", pushed_space.server, space=pushed_space.space_key)
    shutil.copytree(pushed_space.docs, project.docs, dirs_exist_ok=True)
    shutil.copytree(pushed_space.root / ".mdsync", project.root / ".mdsync")
    try:
        yield project
    finally:
        project.close()


# -- the corruptions: each breaks .mdsync and says which part it broke ------------------------------------------

Breaks = Callable[[Path], str]  # .mdsync -> the part broken, relative to the project


def _rewrite(change: Callable[[bytes], bytes]) -> Breaks:
    def breaks(state: Path) -> str:
        (state / "state.json").write_bytes(change((state / "state.json").read_bytes()))
        return ".mdsync/state.json"
    return breaks


def _fields(change: Callable[[dict], None]) -> Breaks:  # type: ignore[type-arg]
    def edit(raw: bytes) -> bytes:
        data = json.loads(raw)
        change(data)
        return json.dumps(data).encode()
    return _rewrite(edit)


def _journal_with_a_bad_middle_line(state: Path) -> str:
    entry = json.loads((state / "state.json").read_text(encoding="utf-8"))["files"]["faq.md"]
    good = json.dumps({"path": "faq.md", "entry": entry})
    (state / "journal.jsonl").write_text(f"{good}\n{{\"path\": \"faq.md\", \"entr\n{good}\n", encoding="utf-8")
    return ".mdsync/journal.jsonl"


def _state_file_a_folder(state: Path) -> str:
    (state / "state.json").unlink()
    (state / "state.json").mkdir()
    (state / "state.json" / "left-here.txt").write_text("someone's file", encoding="utf-8")
    return ".mdsync/state.json"


def _lock_a_folder(state: Path) -> str:
    (state / "lock").mkdir()
    return ".mdsync/lock"


def _state_folder_a_file(state: Path) -> str:
    shutil.rmtree(state)
    state.write_text("not a folder", encoding="utf-8")
    return ".mdsync"


CORRUPTIONS: dict[str, Breaks] = {
    "empty": _rewrite(lambda raw: b""),
    "truncated": _rewrite(lambda raw: raw[: len(raw) // 2]),
    "a list": _rewrite(lambda raw: b"[]"),
    "null": _rewrite(lambda raw: b"null"),
    "a string": _rewrite(lambda raw: b'"state"'),
    "a field of the wrong type": _fields(lambda data: data["files"]["intro.md"].update(version="1")),
    "files of the wrong type": _fields(lambda data: data.update(files=[])),
    "an unknown key": _fields(lambda data: data["files"]["faq.md"].update(colour="blue")),
    "binary garbage": _rewrite(lambda raw: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"),
    "invalid UTF-8": _rewrite(lambda raw: raw.replace(b'"Introduction"', b'"Introduction \xe9"')),
    "a bad journal line": _journal_with_a_bad_middle_line,
    "state.json a folder": _state_file_a_folder,
    "the lock a folder": _lock_a_folder,
    ".mdsync a file": _state_folder_a_file,
}
# Each command that reads the state meets some of them.
COMMANDS = ("push", "pull", "sync", "status")


def contents(path: Path) -> dict[str, bytes]:
    """What a file or folder holds (a folder: each file in it, by relative path)."""
    if path.is_file():
        return {"": path.read_bytes()}
    return {item.relative_to(path).as_posix(): item.read_bytes() for item in sorted(path.rglob("*")) if item.is_file()}


def one_sentence(run: Run) -> str:
    """The run's error: one line, no Python in it."""
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, run
    assert not PYTHON_ERRORS.search(lines[0]), run
    return lines[0]


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_a_broken_state_is_named_and_resync_moves_it_aside_and_rebuilds(copied: World, name: str) -> None:
    world = copied
    pages = {page["title"]: page["id"] for page in world.pages()}
    state = world.root / ".mdsync"
    broken = world.root / CORRUPTIONS[name](state)
    before = contents(broken)

    command = COMMANDS[list(CORRUPTIONS).index(name) % len(COMMANDS)]
    run = world.run(command)
    assert run.code == 1, run
    message = one_sentence(run)
    assert f"`{broken.relative_to(world.root).as_posix()}`" in message and "`mdsync sync --resync`" in message, message
    assert contents(broken) == before  # the failed command left the broken part as it was

    world.reset_stats()
    run = world.sync("--resync")
    assert run.code == 0, run
    assert not run.actions("conflict") and not run.actions("create"), run.report
    assert world.stats()["writes"] == 0, writes(world.stats())  # docs and pages agree: nothing to write
    assert {page["title"]: page["id"] for page in world.pages()} == pages  # no duplicate page
    if name == ".mdsync a file":
        [kept] = world.root.glob(".mdsync.broken-*")
    else:
        [kept] = state.glob(f"broken-*/{broken.name}")
    assert contents(kept) == before  # moved, not deleted
    notes = " ".join(run.report["notes"])  # type: ignore[index]
    assert kept.relative_to(world.root).as_posix() in notes or kept.name in notes, notes
    assert set(world.state()) == {"intro.md", "faq.md", "guides/README.md", "guides/install.md"}

    assert_nothing_to_do(world, world.sync)


def test_a_live_lock_keeps_a_resync_from_moving_the_broken_state_aside(world: World) -> None:
    pushed_tree(world)
    state = world.root / ".mdsync"
    (state / "state.json").write_bytes(b"[]")
    (state / "lock").write_text(f"{os.getpid()}@{socket.gethostname()}", encoding="utf-8")  # this test is alive
    run = world.run("sync", "--resync")
    assert run.code == 1, run
    assert str(os.getpid()) in one_sentence(run) and "lock" in run.stderr
    assert (state / "state.json").read_bytes() == b"[]" and not list(state.glob("broken-*"))


def test_a_torn_last_journal_line_is_dropped_silently(world: World) -> None:
    pushed_tree(world)
    journal = world.root / ".mdsync" / "journal.jsonl"
    journal.write_bytes(b'{"entry": {"page_id": "1", "tit')  # a kill cut the line short
    world.write("faq.md", "# FAQ\n\nQuestions and more answers.\n")
    run = world.sync()
    assert run.code == 0 and run.paths("update") == {"faq.md"}, run
    assert run.report["notes"] == [] and not run.stderr.strip(), run  # type: ignore[index]
    assert not journal.exists() and not list((world.root / ".mdsync").glob("broken-*"))
    assert_nothing_to_do(world, world.sync)


def test_a_copy_that_is_a_folder_counts_as_missing_and_is_moved_aside(world: World) -> None:
    pushed_tree(world)
    base = world.root / ".mdsync" / "base"
    for copy in (base / "intro.md", base / "faq.md.storage", base / "guides" / "install.md"):
        copy.unlink()
        copy.mkdir()
        (copy / "inside.txt").write_text("kept", encoding="utf-8")
    world.write("intro.md", "# Introduction\n\nWelcome to the new docs.\n")
    world.write("faq.md", "# FAQ\n\nQuestions and new answers.\n")
    run = world.push()
    assert run.code == 0 and run.paths("update") == {"intro.md", "faq.md"}, run
    moved = {path.relative_to(base.parent).as_posix() for path in base.parent.glob("broken-*/base/**/inside.txt")}
    assert {path.split("/", 1)[1] for path in moved} >= {"base/intro.md/inside.txt", "base/faq.md.storage/inside.txt"}
    assert all(note.startswith("`.mdsync/base/") for note in run.report["notes"]), run.report  # type: ignore[index]
    assert (base / "intro.md").read_text(encoding="utf-8") == world.read("intro.md")
    assert_nothing_to_do(world, world.sync)
    world.write("guides/install.md", "# Install\n\nStep one, then two.\n")  # its merge base is a folder
    run = world.sync()
    assert run.code == 0 and run.paths("update") == {"guides/install.md"}, run


def test_watch_names_a_broken_state_in_its_events(world: World) -> None:
    pushed_tree(world)
    (world.root / ".mdsync" / "state.json").write_bytes(b"null")
    watch = world.popen("watch", "--json", "--poll", "0", "--debounce", "0.1")
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in watch.stdout or ()], daemon=True)
    reader.start()
    try:
        while True:
            event = json.loads(lines.get(timeout=60))
            if event["event"] == "waiting":
                break
        assert "`.mdsync/state.json`" in event["message"] and "--resync" in event["message"], event
        assert not PYTHON_ERRORS.search(event["message"]), event
    finally:
        watch.send_signal(signal.SIGINT)
        _, stderr = watch.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
