"""``.mdsync/sending.jsonl``: the page writes a run sent and never recorded, and how the
planner finds by them the pages a killed run made (issue 14, items 11 and 12)."""

from __future__ import annotations

from pathlib import Path

from mdsync.sync import plan as planner
from mdsync.sync.sending import NAME, Sending, Sent
from mdsync.sync.state import FileState
from mdsync.vocabulary import ActionKind, Mode

CREATE = Sent("a.md", "A", "root", "page", "hash-1", "md-1")
UPDATE = Sent("a.md", "A", "root", "page", "hash-2", "md-2", page_id="7", version=2)


def entry(page_id: str = "7", version: int = 1) -> FileState:
    return FileState(page_id=page_id, title="A", parent_id="root", version=version, md_hash="md", storage_hash="s")


def test_notes_survive_a_kill_and_a_torn_or_damaged_line_is_passed_over(tmp_path: Path) -> None:
    sending = Sending.load(tmp_path)
    sending.note(CREATE)
    sending.note(UPDATE)
    # No save: the run was killed. A torn last line and a line of the wrong shape beside them.
    with open(tmp_path / NAME, "ab") as file:
        file.write(b'{"path": 3, "title": "B", "parent_id": null, "kind": "page", "storage_hash": "x", "md_hash": null}\n')
        file.write(b'{"path": "b.md", "tit')
    again = Sending.load(tmp_path)
    assert again.pending == {"a.md": [CREATE, UPDATE]}


def test_save_keeps_only_the_writes_the_state_does_not_record(tmp_path: Path) -> None:
    sending = Sending.load(tmp_path)
    sending.note(CREATE)
    sending.note(UPDATE)
    sending.save({"a.md": entry(version=1)})  # the create is recorded; the update (version 2) is not
    assert Sending.load(tmp_path).pending == {"a.md": [UPDATE]}
    sending.save({"a.md": entry(version=2)})
    assert not (tmp_path / NAME).exists()
    assert Sending.load(tmp_path).pending == {}


def test_an_update_of_another_page_is_not_settled_by_this_entry() -> None:
    assert not UPDATE.settled_by(entry(page_id="8", version=5))
    assert not UPDATE.settled_by(None)
    assert CREATE.settled_by(entry(page_id="8"))


def plan_new_file(remote: dict[str, planner.Remote], sent: dict[str, list[Sent]], mode: Mode = Mode.PUSH,
                  title: str = "A renamed") -> planner.Action:
    local = {"a.md": planner.Local("a.md", title=title, parent=None, md_hash="md-now")}
    result = planner.plan(local, remote, {}, root_id="root", options=planner.Options(mode=mode), sent=sent)
    (action,) = [action for action in result.actions if action.path == "a.md"]
    return action


def test_a_page_a_killed_create_made_is_adopted_though_the_file_was_retitled_since() -> None:
    remote = {"7": planner.Remote("7", "A", "root", 1)}
    action = plan_new_file(remote, {"a.md": [CREATE]})
    assert (action.kind, action.page_id, action.needs_same_body, action.made_as) == \
        (ActionKind.ADOPT, "7", True, ("hash-1",))
    assert plan_new_file(remote, {}).kind == ActionKind.CREATE, "without the note, a page of another title is not it"


def test_a_page_adopted_and_updated_by_killed_runs_is_found_by_its_id_with_every_body_sent() -> None:
    remote = {"7": planner.Remote("7", "A moved on", "root", 2)}
    action = plan_new_file(remote, {"a.md": [CREATE, UPDATE]})
    assert (action.kind, action.page_id, action.made_as) == (ActionKind.ADOPT, "7", ("hash-1", "hash-2"))


def test_a_pull_links_the_page_instead_of_writing_a_second_file_for_it() -> None:
    remote = {"7": planner.Remote("7", "A", "root", 1)}
    action = plan_new_file(remote, {"a.md": [CREATE]}, mode=Mode.PULL)
    assert action.kind == ActionKind.LINK and action.page_id == "7"
    result = planner.plan({"a.md": planner.Local("a.md", title="A", parent=None, md_hash="md")}, remote, {}, root_id="root",
                          options=planner.Options(mode=Mode.PULL), sent={"a.md": [CREATE]})
    assert not result.of(ActionKind.NEW_FILE), result.actions
