"""Pages a run made but never recorded (issue 14, items 11 and 12): killed between a create
and its record, or told 500 by a server that had created the page. The next push, pull,
sync or resync recognises them as made from their files (even when a file changed since),
adopts them and pushes the newer edit: no duplicate, no refusal, no false conflict.

The sandbox's ``hold_answers_after`` fault handles each write past that number and never
answers it, so the kill lands between a create and its record on a machine of any speed.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time

import pytest

from tests.e2e.test_sync_recovery import kill_once_writes_are_held
from tests.support.world import World, assert_nothing_to_do

FILES = [f"note-{number}.md" for number in range(6)]


def write_notes(world: World) -> None:
    for number, path in enumerate(FILES):
        world.write(path, f"# Note {number}\n\nFirst text of note {number}.\n")


def made_not_recorded(world: World) -> dict[str, str]:
    """Title -> page id of the pages in Confluence that no state entry names."""
    state_file = world.root / ".mdsync" / "state.json"
    recorded = {str(entry["page_id"]) for entry in world.state().values()} if state_file.exists() else set()
    journal = world.root / ".mdsync" / "journal.jsonl"
    if journal.exists():
        recorded |= {line.split('"page_id": "')[1].split('"')[0] for line in journal.read_text().splitlines()
                     if '"page_id": "' in line}
    return {page["title"]: page["id"] for page in world.pages()
            if page["id"] not in recorded and page["id"] != world.home_id}


def killed_after_creates(world: World) -> dict[str, str]:
    """A first push of the notes killed once two creates were answered and a third was not."""
    write_notes(world)
    world.configure("  max_delete: 50%\n  concurrency: 1\n")  # one create at a time: exactly one answerless
    world.reset_stats()
    world.faults(hold_answers_after=2)
    kill_once_writes_are_held(world, world.popen("push"), handled=3)
    orphans = made_not_recorded(world)
    assert len(orphans) == 1, orphans
    return orphans


def assert_one_page_per_file(world: World) -> None:
    titles = [page["title"] for page in world.pages() if page["id"] != world.home_id]
    assert sorted(titles) == sorted(f"Note {number}" for number in range(len(FILES))), titles
    assert set(world.state()) == set(FILES)
    assert not [path for path in world.doc_files() if path not in FILES], world.doc_files()


@pytest.mark.parametrize("command", [("push",), ("sync",), ("sync", "--resync")])
def test_a_page_made_but_not_recorded_is_adopted_and_gets_the_newer_edit(world: World,
                                                                          command: tuple[str, ...]) -> None:
    orphans = killed_after_creates(world)
    (title, page_id), = orphans.items()
    path = f"note-{title.split()[-1]}.md"
    world.write(path, world.read(path).replace("First text", "Edited after the kill"))
    run = world.run(command[0], "--json", *command[1:])
    assert run.code == 0, run
    assert not run.actions("conflict"), run.report
    assert not [file for file in world.doc_files() if file.endswith(".remote.md")]
    assert_one_page_per_file(world)
    assert world.page_id(path) == page_id
    assert "Edited after the kill" in world.body(page_id)
    assert_nothing_to_do(world, world.sync)


def test_a_page_made_but_not_recorded_is_adopted_when_its_file_did_not_change(world: World) -> None:
    orphans = killed_after_creates(world)
    (title, page_id), = orphans.items()
    run = world.push()
    assert run.code == 0, run
    assert_one_page_per_file(world)
    assert world.page_id(f"note-{title.split()[-1]}.md") == page_id
    assert world.version(page_id) == 1, "a page that already holds the file is not written again"


def test_a_pull_after_a_killed_push_links_the_page_to_its_file(world: World) -> None:
    """Item 12: the pull wrote a second copy of the page as a new file; every later push then
    stopped on the title clash. The pull links the page to the file it came from instead."""
    orphans = killed_after_creates(world)
    (title, page_id), = orphans.items()
    path = f"note-{title.split()[-1]}.md"
    run = world.pull()
    assert run.code == 0, run
    assert world.doc_files() == set(FILES), "no second copy of the page as a new file"
    assert world.state()[path]["page_id"] == page_id
    run = world.push()
    assert run.code == 0, run
    assert_one_page_per_file(world)
    assert_nothing_to_do(world, world.sync)


def test_a_page_created_despite_a_500_is_adopted_by_the_next_pull(world: World) -> None:
    """Item 12 as measured: Confluence made the page and answered 500; the push reported the
    failure; the pull that followed must not write the page back as a new file."""
    write_notes(world)
    world.configure("  max_delete: 50%\n  concurrency: 1\n")
    world.faults(fail_answers_after=2)
    run = world.push()
    world.faults(fail_answers_after=None)
    assert run.code != 0 and run.actions("create"), run
    failed = [action["path"] for action in run.actions("create") if action["status"] == "failed"]
    assert failed, run.report
    orphans = made_not_recorded(world)
    assert len(orphans) == len(failed), (orphans, failed)
    run = world.pull()
    assert run.code == 0, run
    assert world.doc_files() == set(FILES), "no second copy of a page as a new file"
    assert set(failed) <= set(world.state())
    world.write(failed[0], world.read(failed[0]) + "\nEdited after the 500.\n")
    run = world.push()
    assert run.code == 0, run
    assert_one_page_per_file(world)
    assert "Edited after the 500." in world.body(world.page_id(failed[0]))
    assert_nothing_to_do(world, world.sync)


# -- the kill-anywhere model ---------------------------------------------------------------------------------------

# Files only this side edits, and files only a colleague edits (in Confluence): any conflict
# between them is a false one.
MINE = [f"mine/doc-{number}.md" for number in range(5)]
THEIRS = [f"theirs-{number}.md" for number in range(3)]


def run_killed_somewhere(world: World, rounds: random.Random) -> bool:
    """One sync, killed at a random write: before it is handled, or handled and unanswered.
    Whether the kill came (a run with fewer writes ends on its own)."""
    hold = rounds.choice(["hold_writes_after", "hold_answers_after"])
    after = rounds.randrange(0, 2)  # each round makes two writes at least: the kill always comes
    world.reset_stats()
    world.faults(**{hold: after})
    process = world.popen("sync")
    try:
        for _ in range(3000):
            writes_seen = [entry for entry in world.stats()["log"] if entry["method"] in ("POST", "PUT", "DELETE")]
            # A held write is in the log once handled (its answer held), not while it waits to be.
            if len(writes_seen) >= after + (hold == "hold_answers_after") or process.poll() is not None:
                break
            time.sleep(0.04)
        killed = process.poll() is None
        if killed:
            time.sleep(rounds.choice([0, 0.05, 0.2, 0.5]))  # the run gets on a little, or not, before the kill
            process.send_signal(signal.SIGKILL)
        process.communicate(timeout=120)
        return killed
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        world.faults(hold_writes_after=None, hold_answers_after=None)


def test_kills_anywhere_with_edits_between_runs_converge(world: World) -> None:
    """Random kills of sync runs, with edits on both sides between them: then one sync more.
    No duplicate page, no lost edit on either side, no false conflict, no file outside the root."""
    rounds = random.Random(int(os.environ.get("MDSYNC_TEST_SEED", "14")))
    for path in [*MINE, *THEIRS]:
        world.write(path, f"# {path.rsplit('/', 1)[-1][:-3].title()}\n\nFirst text of {path}.\n")
    world.write("mine/index.md", "# Mine\n\nMy section.\n")
    mine_last: dict[str, str] = {}
    theirs_last: dict[str, str] = {}
    made = kills = unrecorded = 0
    new_files: list[str] = []
    for number in range(8):
        for path in rounds.sample(MINE, 2):
            mine_last[path] = f"Edit {number} of {path}"
            world.write(path, f"# {path.rsplit('/', 1)[-1][:-3].title()}\n\n{mine_last[path]}.\n")
        if rounds.random() < 0.5:
            path = f"mine/new-{made}.md"
            made += 1
            mine_last[path] = f"New file {path}"
            world.write(path, f"# New {made}\n\n{mine_last[path]}.\n")
            new_files.append(path)
        state = world.state() if (world.root / ".mdsync" / "state.json").exists() else {}
        for path in THEIRS:
            if path in state and rounds.random() < 0.5:
                theirs_last[path] = f"Colleague's edit {number} of {path}"
                world.edit(str(state[path]["page_id"]), lambda body, text=theirs_last[path]: re.sub(
                    r"<p( [^>]*)?>.*?</p>", f"<p>{text}.</p>", body, count=1))
        kills += run_killed_somewhere(world, rounds)
        sending = world.root / ".mdsync" / "sending.jsonl"
        unrecorded += sending.exists() and sending.stat().st_size > 0
    assert kills == 8 and unrecorded >= 1, (kills, unrecorded)  # the cases under test happened
    run = world.sync()
    assert run.code == 0, json.dumps(run.report, indent=1)
    assert not run.actions("conflict"), run.report
    titles = [page["title"] for page in world.pages() if page["id"] != world.home_id]
    assert len(titles) == len(set(titles)), f"duplicate pages: {sorted(titles)}"
    files = [*MINE, *THEIRS, *new_files, "mine/index.md"]
    assert len(titles) == len(files), (sorted(titles), files)
    state = world.state()
    for path, text in mine_last.items():
        assert text in world.body(str(state[path]["page_id"])), f"the edit of {path} was lost"
    for path, text in theirs_last.items():
        assert text in world.read(path), f"the colleague's edit of {path} was lost"
    outside = [file.relative_to(world.root).as_posix() for file in world.root.rglob("*") if file.is_file()
               and not file.relative_to(world.root).as_posix().startswith(("docs/", ".mdsync/"))]
    assert outside == ["mdsync.yaml"], outside
    assert sorted(world.doc_files()) == sorted(files), "no copy or conflict file left behind"
    assert_nothing_to_do(world, world.sync)

