"""A broken ``.mdsync/`` (issue 14, item 6), below the CLI: what cannot be made as root in an
end-to-end test (unreadable files), the shape checks, the journal's torn tail, and copies
that are folders or unreadable. tests/e2e/test_broken_state.py drives the CLI over the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mdsync.sync.state import FileState, Locked, State, StateError


def entry(page_id: str, title: str = "T") -> FileState:
    return FileState(page_id=page_id, title=title, parent_id="1", version=1, md_hash="m", storage_hash="s")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A saved state of two files, in a project's ``.mdsync``."""
    directory = tmp_path / ".mdsync"
    state = State(directory)
    state.record("a.md", entry("1"), base="# A\n", storage="<p>A</p>")
    state.record("b.md", entry("2"))
    state.save()
    return directory


def unreadable(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Reading these files fails as it does without permission (root reads everything)."""
    read_bytes, read_text = Path.read_bytes, Path.read_text

    def refuse(path: Path) -> None:
        if path.name in names and path.exists():
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_bytes", lambda path: refuse(path) or read_bytes(path))
    monkeypatch.setattr(Path, "read_text", lambda path, *args, **kwargs: refuse(path) or read_text(path, *args, **kwargs))


def test_an_unreadable_state_file_is_named_and_a_rebuild_moves_it_aside(state_dir: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    unreadable(monkeypatch, "state.json")
    with pytest.raises(StateError) as caught:
        State.load(state_dir)
    assert caught.value.message == ("`.mdsync/state.json` cannot be read (permission denied); run `mdsync sync "
                                    "--resync` to rebuild it (the broken file is kept).")
    assert caught.value.exit_code == 1
    with State.opened(state_dir, rebuild=True) as state:
        assert state.files == {}
    [kept] = state_dir.glob("broken-*/state.json")
    where = kept.relative_to(state_dir.parent).as_posix()
    assert state.aside.notes == [f"`.mdsync/state.json` could not be trusted: it is kept as `{where}`."]


def test_a_state_folder_without_permissions_is_moved_beside_itself(state_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    locked_out = state_dir.stat().st_ino  # this folder, not the one made in its place
    monkeypatch.setattr(os, "access", lambda path, mode: os.stat(path).st_ino != locked_out)
    with pytest.raises(StateError, match=r"^`\.mdsync` cannot be read or written \(permission denied\); run"), \
            State.opened(state_dir):
        pass
    assert State.cached_cloud_id(state_dir, "https://x") is None  # the client's look-up passes over it
    with State.opened(state_dir, rebuild=True) as state:
        assert state.files == {} and state_dir.is_dir()
    [kept] = state_dir.parent.glob(".mdsync.broken-*")
    assert set(json.loads((kept / "state.json").read_text())["files"]) == {"a.md", "b.md"}


def test_a_lock_that_cannot_be_read_is_never_taken_over(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (state_dir / "state.json").write_text("[]")
    (state_dir / "lock").write_text("someone")
    unreadable(monkeypatch, "lock")
    with pytest.raises(Locked, match=r"`\.mdsync/lock` cannot be read \(permission denied\).*delete"), \
            State.opened(state_dir, rebuild=True):
        pass
    assert (state_dir / "state.json").read_text() == "[]" and not list(state_dir.glob("broken-*"))


@pytest.mark.parametrize(("line", "problem"), [
    (b"garbage", "line 2 is not valid JSON (column 1)"),
    (b'{"path": "a.md", "entry": null, "copies": {"picture": "x"}}', "line 2 has an unknown field `picture` at `copies`"),
    (b'{"path": "a.md", "entry": {"page_id": 3}}', "line 2 has a whole number at `entry → page_id` where a string belongs"),
    (b'{"path": "", "entry": null}', "line 2 has a file entry with an empty path"),
    (b'{"path": "a.md", "entry": null, "moved_from": 7}', "line 2 has a whole number at `moved_from` where a string"),
])
def test_a_bad_journal_line_before_the_last_names_its_line(state_dir: Path, line: bytes, problem: str) -> None:
    good = json.dumps({"path": "c.md", "entry": entry("3").to_json()}).encode()
    (state_dir / "journal.jsonl").write_bytes(good + b"\n" + line + b"\n" + good + b"\n")
    with pytest.raises(StateError) as caught:
        State.load(state_dir)
    assert caught.value.message.startswith(f"`.mdsync/journal.jsonl` {problem}"), caught.value.message
    assert caught.value.part == state_dir / "journal.jsonl"
    with State.opened(state_dir, rebuild=True) as state:
        assert set(state.files) == {"a.md", "b.md"}  # state.json is sound: only the journal goes
    assert list(state_dir.glob("broken-*/journal.jsonl")) and not list(state_dir.glob("broken-*/state.json"))


@pytest.mark.parametrize(("document", "problem"), [
    ({"version": 2, "files": {}}, "is of state version 2, which this mdsync does not read"),
    ({"version": True, "files": {}}, "has true or false at `version` where a whole number belongs"),
    ({"files": {}}, "has no `version` at the top"),
    ({"version": 1, "files": {"": entry("1").to_json()}}, "has a file entry with an empty path"),
    ({"version": 1, "site": {"url": None}}, "has null at `site → url` where a string belongs"),
    ({"version": 1, "files": {"a.md": {**entry("1").to_json(), "kind": "whiteboard"}}},
     "has `whiteboard` at `files → a.md → kind`, which is none of page, blogpost, folder"),
    ({"version": 1, "files": {"a.md": {**entry("1").to_json(), "attachments": {"x.png": {"id": "9"}}}}},
     "has no `hash` at `files → a.md → attachments → x.png`"),
])
def test_every_field_of_state_json_is_checked(state_dir: Path, document: object, problem: str) -> None:
    (state_dir / "state.json").write_text(json.dumps(document))
    with pytest.raises(StateError) as caught:
        State.load(state_dir)
    assert caught.value.message == f"`.mdsync/state.json` {problem}; run `mdsync sync --resync` to rebuild it " \
                                   "(the broken file is kept)."


def test_a_torn_tail_is_dropped_before_the_next_run_appends(state_dir: Path) -> None:
    (state_dir / "journal.jsonl").write_bytes(b'{"path": "c.md", "entry": {"page_id": "3", "ti')
    with State.opened(state_dir) as state:
        assert not state.journal_path.exists()  # folded at the start: the torn line is gone
        state.record("d.md", entry("4"))
        state.close_journal()
    assert set(State.load(state_dir).files) == {"a.md", "b.md", "d.md"}  # the new line reads


def test_copies_that_are_folders_or_unreadable_count_as_missing(state_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = State.load(state_dir)
    base = state.base_path("a.md")
    base.unlink()
    base.mkdir()
    state.kept_path("a.md").mkdir()
    assert state.base("a.md") is None and state.kept("a.md") == {}
    unreadable(monkeypatch, "a.md.storage")
    assert state.storage("a.md") is None
    state.record("a.md", entry("1"), base="# A again\n")  # written over the folder, which goes aside
    state.drop_copies("b.md")
    state.forget("a.md")  # its kept copy is a folder: moved aside too
    assert not base.exists() and not state.kept_path("a.md").exists()
    kept = {path.relative_to(state_dir).parts[1:] for path in state_dir.glob("broken-*/base/*")}
    assert kept == {("base", "a.md"), ("base", "a.md.kept.json")}


def test_a_file_where_the_copies_folder_belongs_is_moved_aside_when_a_copy_is_written(state_dir: Path) -> None:
    state = State.load(state_dir)
    (state_dir / "base" / "guides").write_text("not a folder")
    assert state.base("guides/x.md") is None
    state.record("guides/x.md", entry("5"), base="# X\n")
    assert state.base("guides/x.md") == "# X\n"
    assert [path.read_text() for path in state_dir.glob("broken-*/base/guides")] == ["not a folder"]


def test_a_rename_moves_its_copies_past_a_folder_in_the_way(state_dir: Path) -> None:
    state = State.load(state_dir)
    state.base_path("c.md").mkdir()
    state.rename("a.md", "c.md")
    assert state.base("c.md") == "# A\n" and state.storage("c.md") == "<p>A</p>"
    assert [path.name for path in state_dir.glob("broken-*/base/*")] == ["c.md"]


@pytest.mark.parametrize("path", ["../../X.md", "/etc/X.md", "C:/X.md", "guides/../../X.md", "..\\X.md", "a\x00.md"])
def test_an_entry_whose_path_leads_out_of_the_docs_folder_makes_the_state_broken(state_dir: Path, path: str) -> None:
    document = json.loads((state_dir / "state.json").read_text())
    document["files"][path] = document["files"].pop("a.md")
    (state_dir / "state.json").write_text(json.dumps(document))
    with pytest.raises(StateError) as caught:
        State.load(state_dir)
    assert caught.value.message == f"`.mdsync/state.json` has a file entry `{path}` that leads outside the docs " \
                                   "folder; run `mdsync sync --resync` to rebuild it (the broken file is kept)."
    (state_dir / "state.json").write_text(json.dumps({**document, "files": {}}))
    for line in ({"path": path, "entry": entry("3").to_json()}, {"path": "c.md", "entry": None, "moved_from": path}):
        (state_dir / "journal.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(line) + "\n")
        with pytest.raises(StateError, match="line 1 has a file entry .* that leads outside the docs folder"):
            State.load(state_dir)
