"""The state archive: journal replay after a kill, atomic folding, the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdsync.sync.state import FileState, Locked, State, StateError


def entry(page_id: str, version: int = 1, title: str = "T") -> FileState:
    return FileState(page_id=page_id, title=title, parent_id="1", version=version, md_hash="m" + page_id,
                     storage_hash="s" + page_id)


def test_record_appends_to_the_journal_and_load_replays_it(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.record("a.md", entry("10"), base="# A\n", storage="<p>A</p>")
    state.record("b.md", entry("11"))
    state.record("a.md", entry("10", version=2))
    state.close_journal()
    assert not state.path.exists()  # nothing folded yet: the journal alone holds the changes
    assert len(state.journal_path.read_text().splitlines()) == 3
    again = State.load(tmp_path)
    assert again.files == {"a.md": entry("10", version=2), "b.md": entry("11")}
    assert again.base("a.md") == "# A\n"
    assert again.storage("a.md") == "<p>A</p>"


def test_save_folds_the_journal_into_sorted_stable_json(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.record("z.md", entry("2"))
    state.record("a.md", entry("1"))
    state.save()
    assert not state.journal_path.exists()
    text = state.path.read_text()
    assert list(json.loads(text)["files"]) == ["a.md", "z.md"]
    State.load(tmp_path).save()
    assert state.path.read_text() == text  # loading and saving again changes no byte


def test_forget_and_rename_survive_a_replay(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.record("old.md", entry("5"), base="text")
    state.record("gone.md", entry("6"), base="bye")
    state.save()
    state.rename("old.md", "dir/new.md")
    state.forget("gone.md")
    state.close_journal()
    again = State.load(tmp_path)
    assert set(again.files) == {"dir/new.md"}
    assert again.base("dir/new.md") == "text"
    assert again.base("gone.md") is None


def test_replaying_over_an_already_folded_state_changes_nothing(tmp_path: Path) -> None:
    # Killed between writing state.json and removing the journal: the replay must be harmless.
    state = State(tmp_path)
    state.record("a.md", entry("1"))
    state.rename("a.md", "b.md")
    state.record("a.md", entry("2"))
    state.close_journal()
    journal = state.journal_path.read_bytes()
    state.save()
    state.journal_path.write_bytes(journal)
    assert State.load(tmp_path).files == {"b.md": entry("1"), "a.md": entry("2")}


def test_a_line_cut_off_by_a_kill_is_ignored(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.record("a.md", entry("1"))
    state.close_journal()
    with open(state.journal_path, "ab") as journal:
        journal.write(b'{"entry": {"page_id": "2", "ti')
    assert set(State.load(tmp_path).files) == {"a.md"}


def test_a_damaged_line_in_the_middle_is_a_clear_error(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.record("a.md", entry("1"))
    state.close_journal()
    with open(state.journal_path, "ab") as journal:
        journal.write(b"garbage\n")
    state.record("b.md", entry("2"))
    state.close_journal()
    with pytest.raises(StateError, match="--resync"):
        State.load(tmp_path)


def test_an_unreadable_state_file_names_the_way_out(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(StateError, match="--resync"):
        State.load(tmp_path)


def test_the_journal_holds_the_record_when_the_process_dies_right_after(tmp_path: Path) -> None:
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from mdsync.sync.state import FileState, State\n"
        "state = State(Path(sys.argv[1]))\n"
        "state.record('a.md', FileState('7', 'T', None, 3, 'm', 's'))\n"
        "os._exit(9)\n"  # no cleanup, no fold: as a kill would leave it
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], timeout=60)
    assert done.returncode == 9
    assert State.load(tmp_path).files["a.md"].version == 3


def test_a_second_run_is_locked_out_and_a_dead_runs_lock_is_taken_over(tmp_path: Path) -> None:
    state = State(tmp_path)
    with state.lock():
        with pytest.raises(Locked, match="Another mdsync run"):
            with State(tmp_path).lock():
                pass
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "lock").write_text(f"{dead.stdout.strip()}@{os.uname().nodename}")
    with State(tmp_path).lock():
        assert (tmp_path / "lock").read_text() == f"{os.getpid()}@{os.uname().nodename}"
    assert not (tmp_path / "lock").exists()


def test_kept_payloads_follow_their_file_and_a_damaged_copy_is_not_trusted(tmp_path: Path) -> None:
    from mdsync.convert.carry import Carried

    state = State(tmp_path)
    kept = {"0123456789ab": Carried("keep", "jira macro", "<ac:structured-macro ac:name=\"jira\" />", "fedcba987654")}
    state.record("guides/a.md", entry("10"), base="# A\n", storage="<p>A</p>", kept=kept)
    assert state.kept("guides/a.md") == kept
    state.rename("guides/a.md", "b.md")
    assert state.kept("b.md") == kept and state.kept("guides/a.md") == {}
    state.kept_path("b.md").write_text("{not json", encoding="utf-8")
    assert state.kept("b.md") == {}  # a push then writes those regions as their Markdown, and says so
    state.record("b.md", entry("10"), kept={})
    assert not state.kept_path("b.md").exists()
    state.record("b.md", entry("10"), kept=kept)
    state.forget("b.md")
    assert not state.kept_path("b.md").exists() and not state.storage_path("b.md").exists()


def test_writes_asked_for_land_even_when_the_askers_are_cancelled() -> None:
    """Ctrl-C cancels the actions waiting on the writer; what they asked to record is what
    Confluence already has, so it must still be written."""
    import asyncio
    import threading

    from mdsync.sync.state import after_queued_writes, on_writer

    landed: list[int] = []
    release = threading.Event()

    def write(number: int) -> None:
        if number == 0:
            release.wait(timeout=60)
        landed.append(number)

    async def ask_then_cancel() -> None:
        tasks = [asyncio.create_task(on_writer(write, number)) for number in range(5)]
        await asyncio.sleep(0)  # each has asked; the first holds the writer, the others queue
        for task in tasks:
            task.cancel()
        release.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(ask_then_cancel())
    after_queued_writes()
    assert landed == [0, 1, 2, 3, 4]


def test_a_copy_a_power_cut_damaged_is_dropped_when_the_journal_is_replayed(tmp_path: Path) -> None:
    # Copies are written without an fsync each; the journal line keeps their hashes. After a
    # power cut a copy can be empty or old: replaying drops it, a missing copy is safe.
    state = State(tmp_path)
    state.record("a.md", entry("1"), base="# A\n", storage="<p>A</p>")
    state.record("b.md", entry("2"), base="# B\n", storage="<p>B</p>")
    state.record("c.md", entry("3"), base="# C\n", storage="<p>C</p>")
    state.rename("c.md", "moved/c.md")
    state.close_journal()
    state.storage_path("a.md").write_text("")  # empty, as delayed allocation can leave it
    state.base_path("b.md").write_text("# B, an older base\n")
    state.storage_path("moved/c.md").write_text("<p>C, torn")
    again = State.load(tmp_path)
    assert set(again.files) == {"a.md", "b.md", "moved/c.md"}
    assert (again.storage("a.md"), again.base("a.md")) == (None, "# A\n")
    assert (again.storage("b.md"), again.base("b.md")) == ("<p>B</p>", None)
    assert (again.storage("moved/c.md"), again.base("moved/c.md")) == (None, "# C\n")


def test_a_journal_line_without_copy_hashes_still_replays(tmp_path: Path) -> None:
    # Journals written before the hashes existed (or by an update, which writes no copy).
    (tmp_path / "base").mkdir(parents=True)
    (tmp_path / "base" / "a.md").write_text("# A\n")
    line = json.dumps({"path": "a.md", "entry": entry("1").to_json()})
    (tmp_path / "journal.jsonl").write_text(line + "\n")
    again = State.load(tmp_path)
    assert again.files == {"a.md": entry("1")} and again.base("a.md") == "# A\n"


@pytest.mark.parametrize("files", [2, 40])
def test_save_makes_the_copies_durable_before_the_journal_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              files: int) -> None:
    state = State(tmp_path)
    for number in range(files):
        state.record(f"p{number}.md", entry(str(number)), base="x", storage="<p>x</p>")
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda descriptor: (synced.append(os.readlink(f"/proc/self/fd/{descriptor}")),
                                                         real_fsync(descriptor))[1])
    monkeypatch.setattr(os, "sync", lambda: synced.append("sync(2)"))
    monkeypatch.setattr(os, "replace", lambda old, new: (synced.append(f"replace {Path(new).name}"),
                                                        real_replace(old, new))[1])
    state.save()
    state_json = synced.index("replace state.json")
    before = [name for name in synced[:state_json] if not name.endswith(".tmp")]  # state.json's own
    if files > 2:
        assert before == ["sync(2)"]  # one sync(2) instead of 80 fsyncs
    else:
        copies = {str(state.base_path(f"p{n}.md")) for n in range(files)} | {
            str(state.storage_path(f"p{n}.md")) for n in range(files)}
        assert set(before) == copies
    synced.clear()
    State.load(tmp_path).save()
    assert "sync(2)" not in synced and not [name for name in synced if "/base/" in name]  # nothing left to sync
