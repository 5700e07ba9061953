"""`mdsync resolve`: a conflict ends in one command. The side kept (the file as merged by hand,
the file as it is, or Confluence's version) becomes the agreed version, is written to the
other side at once, and Confluence's copy beside the file goes; the next sync finds nothing.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    Run,
    World,
    assert_nothing_to_do,
    pushed,
    replace_text,
    small_tree,
)

INSTALL = "guides/install.md"
COPY = "guides/install.remote.md"
MERGED = "# Install\n\nStep one.\n\nStep two, both ways.\n\nStep three.\n"


def resolve(world: World, *args: str) -> Run:
    """`mdsync resolve` from the project folder, files named as typed there (docs/...)."""
    return world.run("resolve", "--json", *(f"docs/{arg}" if arg.endswith(".md") else arg for arg in args))


def in_conflict(world: World) -> str:
    """Step two edited here and in Confluence, differently: a sync stops on it."""
    small_tree(world)
    pushed(world)
    page_id = world.page_id(INSTALL)
    world.edit(page_id, replace_text("Step two.", "Step two, their way."))
    world.write(INSTALL, world.read(INSTALL).replace("Step two.", "Step two, my way."))
    run = world.sync()
    assert run.code == 3 and run.paths("conflict") == {INSTALL}, run
    return page_id


def assert_settled(world: World, page_id: str, kept: str, dropped: str, version: int) -> None:
    """The side kept is in the page and the file, the other side's line in neither; the copy is
    gone; a sync finds nothing to do."""
    body, text = world.body(page_id), world.read(INSTALL)
    assert kept in body and kept in text and dropped not in body and dropped not in text
    assert world.version(page_id) == version and not world.exists(COPY)
    assert_nothing_to_do(world, world.sync)


def test_a_conflict_names_resolve_and_a_merge_by_hand_is_resolved_in_one_command(world: World) -> None:
    page_id = in_conflict(world)
    [conflict] = world.sync().actions("conflict")  # unresolved, the same conflict again
    assert f"{COPY}; merge it into {INSTALL}, then run `mdsync resolve docs/{INSTALL}`" in conflict["message"]
    assert "Step two, their way." in world.read(COPY)
    # Merged by hand, and the copy deleted (as the user did): resolve ends it.
    world.write(INSTALL, MERGED)
    (world.docs / COPY).unlink()
    run = resolve(world, INSTALL)
    assert run.code == 0, run
    [resolved] = run.actions()
    assert (resolved["action"], resolved["path"], resolved["status"]) == ("update", INSTALL, "done")
    assert "resolved" in resolved["message"] and run.report["mode"] == "resolve"  # type: ignore[index]
    assert world.read(INSTALL) == MERGED
    assert_settled(world, page_id, "Step two, both ways.", "their way", version=3)


def test_keep_local_pushes_the_file_as_it_is_and_removes_the_copy(world: World) -> None:
    page_id = in_conflict(world)
    mine = world.read(INSTALL)
    world.reset_stats()
    planned = resolve(world, INSTALL, "--keep", "local", "--dry-run")
    assert planned.code == 0 and [action["status"] for action in planned.actions()] == ["planned"], planned
    assert world.stats()["writes"] == 0 and world.exists(COPY)
    run = resolve(world, INSTALL, "--keep", "local")
    assert run.code == 0, run
    [resolved] = run.actions()
    assert resolved["action"] == "update" and "overwriting Confluence's edit" in resolved["message"]
    assert world.read(INSTALL) == mine
    assert_settled(world, page_id, "Step two, my way.", "their way", version=3)


def test_keep_remote_takes_confluences_version_and_says_the_edit_here_is_discarded(world: World) -> None:
    page_id = in_conflict(world)
    world.reset_stats()
    run = resolve(world, INSTALL, "--keep", "remote")
    assert run.code == 0, run
    [resolved] = run.actions()
    assert resolved["action"] == "pull" and "discarding the edit here" in resolved["message"]
    assert world.stats()["writes"] == 0  # Confluence is left as it is
    assert_settled(world, page_id, "Step two, their way.", "my way", version=2)


def test_conflict_markers_left_in_the_file_are_refused_by_line(world: World) -> None:
    page_id = in_conflict(world)
    marked = ("# Install\n\nStep one.\n\n<<<<<<< this file\nStep two, my way.\n=======\nStep two, their way.\n"
              ">>>>>>> Confluence\n\nStep three.\n")
    world.write(INSTALL, marked)
    world.reset_stats()
    run = resolve(world, INSTALL)
    assert run.code == 3, run
    [refused] = run.actions()
    assert refused["status"] == "conflict" and "line 5 is still a conflict marker" in refused["message"]
    assert world.stats()["writes"] == 0 and world.read(INSTALL) == marked and world.exists(COPY)
    assert world.version(page_id) == 2
    # A setext heading's ======= underline alone is no marker.
    world.write(INSTALL, "Install\n=======\n\nStep one.\n\nStep two, both ways.\n\nStep three.\n")
    run = resolve(world, INSTALL)
    assert run.code == 0, run
    assert "Step two, both ways." in world.body(page_id) and not world.exists(COPY)


def test_a_page_edited_again_after_the_copy_is_not_overwritten_unseen(world: World) -> None:
    page_id = in_conflict(world)
    world.write(INSTALL, MERGED)
    world.edit(page_id, replace_text("Step three.", "Step three, later."))  # after the copy was written
    run = resolve(world, INSTALL)
    assert run.code == 1, run
    [failed] = run.actions()
    assert "changed again" in failed["message"] and "mdsync sync" in failed["message"]
    assert "Step three, later." in world.body(page_id) and "both ways" not in world.body(page_id)
    # A sync brings the new version beside the file; merged in too, resolve pushes it all.
    run = world.sync()
    assert run.code == 3, run
    assert "Step three, later." in world.read(COPY)
    world.write(INSTALL, MERGED.replace("Step three.", "Step three, later."))
    run = resolve(world, INSTALL)
    assert run.code == 0, run
    body = world.body(page_id)
    assert "Step two, both ways." in body and "Step three, later." in body
    assert_nothing_to_do(world, world.sync)


def test_resolve_all_settles_every_file_whose_markers_are_gone(world: World) -> None:
    install = in_conflict(world)
    faq = world.page_id("faq.md")
    world.edit(faq, replace_text("Questions and answers.", "Questions, answered there."))
    world.write("faq.md", "# FAQ\n\nQuestions, answered here.\n")
    assert world.sync().code == 3 and world.exists("faq.remote.md")
    world.write(INSTALL, MERGED)
    world.write("faq.md", "# FAQ\n\n<<<<<<< this file\nQuestions, answered here.\n>>>>>>> Confluence\n")
    run = resolve(world, "--all")
    assert run.code == 3, run
    assert {(action["path"], action["status"]) for action in run.actions()} == {
        (INSTALL, "done"), ("faq.md", "conflict")}
    assert "both ways" in world.body(install) and not world.exists(COPY) and world.exists("faq.remote.md")
    world.write("faq.md", "# FAQ\n\nQuestions, answered here and there.\n")
    run = resolve(world, "--all")
    assert run.code == 0 and run.paths("update") == {"faq.md"}, run
    assert "answered here and there" in world.body(faq) and not world.exists("faq.remote.md")
    run = resolve(world, "--all")
    assert run.code == 0 and run.actions() == [], run
    assert any("nothing to resolve" in note for note in run.report["notes"])  # type: ignore[index]
    assert_nothing_to_do(world, world.sync)


def test_resolve_names_what_it_cannot_resolve(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("new.md", "# New\n\nNot pushed yet.\n")
    run = world.run("resolve", "docs/new.md")
    assert run.code == 2 and "not a file mdsync syncs" in run.stderr, run
    run = world.run("resolve")
    assert run.code == 2 and "--all" in run.stderr, run
