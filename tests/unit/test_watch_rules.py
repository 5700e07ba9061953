"""The watcher's own rules, without an observer: which names are temporary, when a path
is ready, and which changes are worth a run (mdsync's own writes are not)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from mdsync.config import parse_config
from mdsync.docs import file_hash
from mdsync.sync.report import Outcome
from mdsync.sync.state import AttachmentState, FileState, State
from mdsync.sync.watch import Watcher, WatchOptions, _Forwarder, is_temporary


class Collect:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, kind: str, **fields: Any) -> None:
        self.events.append((kind, fields))

    def outcome(self, outcome: Outcome) -> None:
        self.events.append(("action", outcome.as_dict()))

    def pending(self, count: int) -> None:
        pass


def make_watcher(tmp_path: Path, **options: Any) -> Watcher:
    (tmp_path / "docs").mkdir(exist_ok=True)
    config = parse_config("confluence:\n  url: http://127.0.0.1:1\n  auth: token\n  email: a@b.c\n  token: t\n"
                          "space: DOCS\ndocs: docs\n", root=tmp_path, environ={})
    return Watcher(config, client=None, reporter=Collect(), options=WatchOptions(**options))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [".intro.md.swp", "intro.md.swx", "intro.md~", "4913", "#intro.md#", ".#intro.md",
                                  "intro.md___jb_tmp___", "intro.md___jb_old___", ".intro.md.x1y2.tmp",
                                  "intro.remote.md", "intro.md.crswap"])
def test_editor_and_mdsync_temporary_files_are_ignored(name: str) -> None:
    assert is_temporary(name)


@pytest.mark.parametrize("name", ["intro.md", "diagram.png", "notes.txt", "README.md", "tilde~name.md"])
def test_ordinary_files_are_watched(name: str) -> None:
    assert not is_temporary(name)


def test_the_forwarder_keeps_paths_inside_the_docs_folder_and_out_of_hidden_ones(tmp_path: Path) -> None:
    forwarder = _Forwarder(tmp_path, asyncio.new_event_loop(), lambda path, is_dir: None)
    assert forwarder._relative(str(tmp_path / "guides" / "a.md")) == "guides/a.md"
    assert forwarder._relative(str(tmp_path / ".mdsync" / "state.json")) is None
    assert forwarder._relative(str(tmp_path / ".git" / "index")) is None
    assert forwarder._relative(str(tmp_path / "guides" / ".a.md.swp")) is None
    assert forwarder._relative(str(tmp_path.parent / "elsewhere.md")) is None
    assert forwarder._relative(str(tmp_path)) is None


def test_a_path_is_ready_after_the_debounce_and_a_missing_file_after_the_grace(tmp_path: Path) -> None:
    watcher = make_watcher(tmp_path, debounce=0.3, delete_grace=1.0)
    (tmp_path / "docs" / "here.md").write_text("# Here\n")
    watcher.pending = {"here.md": 100.0, "gone.md": 100.0}
    assert watcher._ready(100.2) == []
    assert watcher._ready(100.35) == ["here.md"]
    assert watcher._ready(100.9) == []
    assert watcher._ready(101.05) == ["gone.md"]
    assert watcher.pending == {}


def test_content_the_state_already_records_causes_no_run(tmp_path: Path) -> None:
    watcher = make_watcher(tmp_path)
    docs = tmp_path / "docs"
    (docs / "pulled.md").write_text("# Pulled\n\nFrom Confluence.\n")
    (docs / "edited.md").write_text("# Edited\n\nNew text.\n")
    (docs / "new.md").write_text("# New\n")
    (docs / "img").mkdir()
    (docs / "img" / "same.png").write_bytes(b"same")
    (docs / "img" / "changed.png").write_bytes(b"changed now")
    (docs / "img" / "stray.png").write_bytes(b"nobody uses it")
    state = State(tmp_path / ".mdsync")
    pulled_hash = file_hash((docs / "pulled.md").read_bytes())
    state.record("pulled.md", FileState("1", "Pulled", None, 2, pulled_hash, "s"))
    state.record("edited.md", FileState("2", "Edited", None, 1, "old hash", "s"))
    state.record("gone.md", FileState("3", "Gone", None, 1, "h", "s"))
    state.record("pics.md", FileState("4", "Pics", None, 1, "h", "s", attachments={
        "same.png": AttachmentState("a1", file_hash(b"same"), 1, "img/same.png"),
        "changed.png": AttachmentState("a2", file_hash(b"before"), 1, "img/changed.png")}))
    state.save()
    paths = ["pulled.md", "edited.md", "new.md", "gone.md", "never-known.md", "img/same.png", "img/changed.png",
             "img/stray.png", "folder/"]
    assert watcher._worth_syncing(paths) == ["edited.md", "folder/", "gone.md", "new.md", "pics.md"]


def test_repeated_news_is_said_once(tmp_path: Path) -> None:
    watcher = make_watcher(tmp_path)
    collected = watcher.reporter
    assert isinstance(collected, Collect)
    from mdsync.sync.report import Report

    for _ in range(3):
        report = Report("sync", outcomes=[Outcome("keep", "old.md", "reported", "deleted here"),
                                          Outcome("update", "a.md", "done", "updated")])
        watcher._report(report, "poll")
    actions = [fields for kind, fields in collected.events if kind == "action"]
    assert [action["path"] for action in actions] == ["old.md", "a.md", "a.md", "a.md"]


def test_failures_back_off_and_are_said_once(tmp_path: Path) -> None:
    watcher = make_watcher(tmp_path, debounce=0.3)
    collected = watcher.reporter
    assert isinstance(collected, Collect)
    watcher._failed("Could not reach Confluence.", ["a.md"])
    first = watcher.retry_at
    watcher._failed("Could not reach Confluence.", [])
    assert watcher.retry_at > first  # waits longer each time
    assert [kind for kind, _ in collected.events] == ["waiting"]
    assert "a.md" in watcher.pending


def test_nothing_is_due_before_the_retry_while_confluence_is_away(tmp_path: Path) -> None:
    watcher = make_watcher(tmp_path, debounce=0.3)
    (tmp_path / "docs" / "a.md").write_text("# A\n")
    watcher._failed("Could not reach Confluence.", ["a.md"])
    assert watcher._due(0.0) >= watcher.retry_at  # no busy loop until then
    watcher.pending.clear()
    assert watcher._due(0.0) == float("inf")  # nothing waits and no whole-tree run failed
    watcher.retry_everything = True
    assert watcher._due(0.0) == watcher.retry_at
