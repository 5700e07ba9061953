"""Both sides changed: merge what merges cleanly and stop on the rest (the default), stop with
the remote copy beside the file, merge with markers, or let one side win, as ``on_conflict``
says.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    World,
    assert_nothing_to_do,
    pushed,
    replace_text,
    small_tree,
)

# -- sync: both sides changed -----------------------------------------------------------------------------


def both_sides(world: World, local_old: str, local_new: str, remote_old: str, remote_new: str) -> str:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/install.md")
    world.edit(page_id, replace_text(remote_old, remote_new))
    world.write("guides/install.md", world.read("guides/install.md").replace(local_old, local_new))
    return page_id


def test_sync_stop_keeps_the_file_and_writes_the_remote_copy(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    mine = world.read("guides/install.md")
    run = world.sync("--on-conflict", "stop")
    assert run.code == 3, run
    assert run.paths("conflict") == {"guides/install.md"}
    [conflict] = run.actions("conflict")  # the way out is named
    assert "then run `mdsync resolve docs/guides/install.md`" in conflict["message"]
    assert world.read("guides/install.md") == mine
    copy = world.read("guides/install.remote.md")
    assert "Step three, there." in copy and "Step one, here." not in copy
    assert world.version(page_id) == 2 and "Step one, here." not in world.body(page_id)


def test_edits_to_different_lines_merge_by_default_and_leave_no_copy(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    run = world.sync()
    assert run.code == 0 and run.paths("merge") == {"guides/install.md"}, run
    text = world.read("guides/install.md")
    assert "Step one, here." in text and "Step three, there." in text and "<<<<<<<" not in text
    assert not world.exists("guides/install.remote.md")
    body = world.body(page_id)
    assert "Step one, here." in body and "Step three, there." in body and world.version(page_id) == 3
    assert_nothing_to_do(world, world.sync)


def test_edits_to_the_same_lines_stop_by_default_with_confluences_copy_beside_the_file(world: World) -> None:
    page_id = both_sides(world, "Step two.", "Step two, my way.", "Step two.", "Step two, their way.")
    mine = world.read("guides/install.md")
    run = world.sync()
    assert run.code == 3, run
    [conflict] = run.actions("conflict")
    assert conflict["path"] == "guides/install.md" and "the same lines" in conflict["message"]
    assert "mdsync resolve docs/guides/install.md" in conflict["message"]
    assert world.read("guides/install.md") == mine  # no markers written into the file
    assert "Step two, their way." in world.read("guides/install.remote.md")
    assert world.version(page_id) == 2


def test_a_pull_merges_confluences_edit_into_an_edited_file_and_leaves_the_push(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    world.reset_stats()
    run = world.pull()
    assert run.code == 0 and run.paths("merge") == {"guides/install.md"}, run
    assert world.stats()["writes"] == 0 and world.version(page_id) == 2  # a pull writes no page
    text = world.read("guides/install.md")
    assert "Step one, here." in text and "Step three, there." in text
    run = world.push()
    assert run.code == 0 and run.paths("update") == {"guides/install.md"}, run
    body = world.body(page_id)
    assert "Step one, here." in body and "Step three, there." in body
    assert_nothing_to_do(world, world.sync)


def test_sync_merge_of_edits_in_different_places_pushes_both(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    run = world.sync("--on-conflict", "merge")
    assert run.code == 0, run
    assert run.paths("merge") == {"guides/install.md"}
    text = world.read("guides/install.md")
    assert "Step one, here." in text and "Step three, there." in text and "<<<<<<<" not in text
    body = world.body(page_id)
    assert "Step one, here." in body and "Step three, there." in body
    assert world.version(page_id) == 3
    world.reset_stats()
    run = world.sync()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


def test_sync_merge_of_the_same_line_leaves_markers_then_pushes_once_settled(world: World) -> None:
    page_id = both_sides(world, "Step two.", "Step two, my way.", "Step two.", "Step two, their way.")
    run = world.sync("--on-conflict", "merge")
    assert run.code == 3, run
    text = world.read("guides/install.md")
    assert "<<<<<<<" in text and ">>>>>>>" in text
    assert "Step two, my way." in text and "Step two, their way." in text
    assert world.version(page_id) == 2 and "my way" not in world.body(page_id)
    # A push before settling refuses to publish the markers.
    run = world.push()
    assert run.code != 0 and world.version(page_id) == 2, run
    settled = "# Install\n\nStep one.\n\nStep two, both ways.\n\nStep three.\n"
    world.write("guides/install.md", settled)
    run = world.sync()
    assert run.code == 0, run
    body = world.body(page_id)
    assert "Step two, both ways." in body and "<<<<<<<" not in body and "their way" not in body
    assert world.version(page_id) == 3
    assert world.read("guides/install.md") == settled


def test_sync_on_conflict_local_and_remote(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    mine = world.read("guides/install.md")
    run = world.sync("--on-conflict", "local")
    assert run.code == 0, run
    body = world.body(page_id)
    assert "Step one, here." in body and "there" not in body
    assert world.read("guides/install.md") == mine

    other = world.page_id("guides/upgrade.md")
    world.edit(other, replace_text("Upgrade notes.", "Upgrade notes from Confluence."))
    world.write("guides/upgrade.md", "# Upgrade\n\nUpgrade notes from here.\n")
    run = world.sync("--on-conflict", "remote")
    assert run.code == 0, run
    assert "Upgrade notes from Confluence." in world.read("guides/upgrade.md")
    assert "from here" not in world.read("guides/upgrade.md")
    assert world.version(other) == 2
    assert_nothing_to_do(world, world.sync)
