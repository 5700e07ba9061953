"""Ways back: ``--resync`` rebuilds the state, the lock stops a second run and is taken
over from a dead one, and a push killed or cut off part-way converges on the next run.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from mdsync.sync.conversions import WORKERS_FROM
from tests.support.world import (
    World,
    pushed,
    small_tree,
)

# -- --resync ---------------------------------------------------------------------------------------------------


def test_resync_rebuilds_the_state_and_reports_differences_as_conflicts(world: World) -> None:
    small_tree(world)
    world.write("misc/loose.md", "# Loose\n\nIn a folder with no page of its own.\n")
    pushed(world)
    count = len(world.pages())
    shutil.rmtree(world.root / ".mdsync")
    world.write("faq.md", "# FAQ\n\nDiffers from its page.\n")
    faq = [page for page in world.pages() if page["title"] == "FAQ"][0]["id"]
    run = world.sync("--resync")
    assert run.code == 3, run
    assert run.paths("conflict") == {"faq.md"}
    assert world.read("faq.md") == "# FAQ\n\nDiffers from its page.\n"
    assert world.version(faq) == 1 and "Differs" not in world.body(faq)
    assert "Questions and answers." in world.read("faq.remote.md")
    assert len(world.pages()) == count
    assert set(world.state()) >= {"intro.md", "guides/README.md", "guides/install.md", "misc/", "misc/loose.md"}
    world.write("faq.md", "# FAQ\n\nQuestions and answers.\n")  # now agrees with its page
    (world.docs / "faq.remote.md").unlink()
    world.reset_stats()
    run = world.sync("--resync")
    assert run.code == 0, run
    run = world.sync()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


# -- the lock -----------------------------------------------------------------------------------------------------


def test_live_lock_stops_the_run_and_a_dead_one_is_taken_over(world: World) -> None:
    small_tree(world)
    lock = world.root / ".mdsync" / "lock"
    lock.parent.mkdir()
    lock.write_text(f"{os.getpid()}@{socket.gethostname()}", encoding="utf-8")
    run = world.run("push")
    assert run.code == 1, run
    assert str(os.getpid()) in run.stderr and "lock" in run.stderr, run.stderr
    assert len(world.pages()) == 1 and lock.exists()

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(f"{dead.pid}@{socket.gethostname()}", encoding="utf-8")
    run = world.push()
    assert run.code == 0, run
    assert len(world.pages()) == 6 and not lock.exists()


# -- crash safety --------------------------------------------------------------------------------------------------


def big_tree(world: World) -> list[str]:
    files = []
    for folder in ("alpha", "beta", "gamma"):
        world.write(f"{folder}/index.md", f"# {folder.title()}\n\nThe {folder} section.\n")
        files.append(f"{folder}/index.md")
        for number in range(3):
            path = f"{folder}/page-{number}.md"
            world.write(path, f"---\nlabels: [{folder}]\n---\n# {folder.title()} {number}\n\nBody {number}.\n")
            files.append(path)
    for number in range(3):
        world.write(f"top-{number}.md", f"# Top {number}\n\nTop body.\n")
        files.append(f"top-{number}.md")
    return files


def converged(world: World, files: list[str]) -> None:
    pages = world.pages()
    titles = [page["title"] for page in pages]
    assert len(titles) == len(set(titles)), f"duplicate pages: {sorted(titles)}"
    state = world.state()
    ids = {page["id"] for page in pages}
    for path in files:
        assert path in state and str(state[path]["page_id"]) in ids, path
    assert len(pages) == len(files) + 1
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


def kill_once_writes_are_held(world: World, process: subprocess.Popen[str], handled: int) -> None:
    """Kill the run once the sandbox has handled ``handled`` writes and holds the next one
    (``hold_writes_after``), or the last one's answer (``hold_answers_after``).

    The sandbox's ``hold_writes_after`` stops every write past that number, so where the kill
    lands does not depend on how fast this machine is.
    """
    try:
        for _ in range(3000):  # up to about two minutes on a loaded machine
            done = [entry for entry in world.stats()["log"] if entry["method"] in ("POST", "PUT", "DELETE")]
            if len(done) >= handled:
                break
            assert process.poll() is None, f"the run ended before its writes were held: {process.communicate()}"
            time.sleep(0.04)
        else:
            raise AssertionError(f"the run never made {handled} writes")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        world.faults(hold_writes_after=None, hold_answers_after=None)


def test_push_killed_part_way_converges_without_duplicates(world: World) -> None:
    files = big_tree(world)
    world.reset_stats()
    world.faults(hold_writes_after=4)
    kill_once_writes_are_held(world, world.popen("push"), handled=4)
    created = len(world.pages()) - 1
    assert 0 < created <= 4 < len(files), "the kill lands part-way"
    run = world.push()
    assert run.code == 0, run
    converged(world, files)


def test_push_killed_during_updates_converges_without_conflicts(world: World) -> None:
    files = big_tree(world)
    pushed(world)
    for path in files:
        text = world.read(path).replace("Body", "Edited body")
        world.write(path, text.replace("labels: [", "labels: [extra, "))  # a label write follows each update
    world.reset_stats()
    world.faults(hold_writes_after=1)  # one page update lands; its label write is held
    kill_once_writes_are_held(world, world.popen("push"), handled=1)
    state = world.state()
    landed = [path for path in files if world.version(state[path]["page_id"]) == 2 and state[path]["version"] == 1]
    assert landed, "the kill should land between a page update and its record"
    run = world.push()
    assert run.code == 0 and not run.actions("conflict"), \
        f"pages mdsync itself updated before the kill came back as conflicts: {sorted(run.paths('conflict'))}"
    for path in files:
        if "Edited body" in world.read(path):
            assert "Edited body" in world.body(world.page_id(path)), path
    assert not [path for path in world.doc_files() if path.endswith(".remote.md")]
    converged(world, files)


def test_push_with_lost_responses_creates_no_duplicates(world: World) -> None:
    world.configure("  concurrency: 1\n")  # one request at a time: the seeded faults hit the same requests
    files = [f"doc-{number}.md" for number in range(3)]
    for number, path in enumerate(files):
        world.write(path, f"# Document {number}\n\nBody {number}.\n")
    world.faults(lost_response_share=0.5, seed=3)
    run = world.push()
    world.faults(lost_response_share=0)
    log = world.stats()["log"]
    # A create whose answer was lost is followed by a look-up of its title: the case under test happened.
    assert any("title=" in entry["query"] for entry in log), log
    titles = [page["title"] for page in world.pages()]
    assert len(titles) == len(set(titles)), f"duplicates after a push with lost answers: {titles}"
    if run.code != 0:
        run = world.push()
    assert run.code == 0, run
    converged(world, files)


def test_a_big_push_killed_part_way_leaves_no_worker_holding_its_output(world: World) -> None:
    """Past WORKERS_FROM files the push converts in a worker process; killed with the run, the
    worker must end too, or it keeps the run's output open and a CI step waits for ever."""
    count = WORKERS_FROM + 10
    for number in range(count):
        world.write(f"part-{number // 50}/doc-{number}.md", f"# Doc {number}\n\nBody {number}.\n")
    world.reset_stats()
    world.faults(hold_writes_after=20)
    process = world.popen("push")
    kill_once_writes_are_held(world, process, handled=20)
    process.communicate(timeout=120)  # the output closes once every process holding it has ended
    run = world.push()
    assert run.code == 0, run
    assert len(world.state()) == count + count // 50 + 1  # every file and a page per folder, once
