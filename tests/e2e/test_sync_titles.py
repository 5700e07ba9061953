"""Titles: a clash inside the tree or with a page outside it stops the run; a new file takes
over a page of its title only when that page holds the file.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    World,
    assert_nothing_to_do,
)

# -- titles --------------------------------------------------------------------------------------------------


def test_two_files_with_one_title_stop_the_run(world: World) -> None:
    world.write("one.md", "# Same Title\n\nfirst\n")
    world.write("sub/two.md", "---\ntitle: same title\n---\nsecond\n")
    world.write("other.md", "# Other\n\nfine\n")
    world.reset_stats()
    run = world.push()
    assert run.code == 1, run
    problems = " ".join(run.report["problems"])
    assert "one.md" in problems and "sub/two.md" in problems
    assert world.stats()["writes"] == 0 and len(world.pages()) == 1


def test_title_used_outside_the_tree_stops_the_run(world: World) -> None:
    world.create("Taken", "<p>someone else's</p>", root_level=True)
    world.write("mine.md", "# Taken\n\nmine\n")
    world.write("other.md", "# Other\n\nfine\n")
    world.reset_stats()
    run = world.push()
    assert run.code == 1, run
    assert any("mine.md" in problem and "Taken" in problem for problem in run.report["problems"])
    assert world.stats()["writes"] == 0 and set(world.by_title()) == {"DOCS Home", "Taken"}


def test_a_new_file_takes_over_a_page_of_its_title_only_if_that_page_holds_the_file(world: World) -> None:
    theirs = world.create("Setup", "<p>A colleague's own notes.</p>", world.home_id)
    world.write("setup.md", "# Setup\n\nMine.\n")
    world.write("faq.md", "# FAQ\n\nQuestions.\n")
    run = world.push()
    assert run.code == 1, run
    [failed] = run.actions("adopt")
    assert failed["path"] == "setup.md" and failed["status"] == "failed"
    assert "was not made from setup.md" in failed["message"] and "--resync" in failed["message"]
    assert world.body(theirs["id"]) == "<p>A colleague's own notes.</p>" and world.version(theirs["id"]) == 1
    assert "setup.md" not in world.state() and "faq.md" in world.state()
    # The page as this file would make it (an earlier run's create never recorded): adopted, not made twice.
    world.edit(theirs["id"], lambda body: "<p>Mine.</p>")
    count = len(world.pages())
    run = world.push()
    assert run.code == 0, run
    assert run.paths("adopt") == {"setup.md"} and world.page_id("setup.md") == str(theirs["id"])
    assert len(world.pages()) == count
    assert_nothing_to_do(world, world.push)
