"""Sibling order at its edges: edits and reorders on both sides, pages added in Confluence,
new files, archived pages, CRLF files, folders among the siblings, invalid values, renames,
status and dry runs. Every run after the one that settles an order must plan nothing.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

import pytest

from tests.support.world import (
    World,
    assert_nothing_to_do,
    ordered_guides,
    pushed,
    replace_text,
    writes,
)


def test_a_page_a_colleague_adds_among_ordered_siblings_keeps_its_place(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    guides = world.page_id("guides/index.md")
    intro = world.page_id("guides/01-intro.md")
    setup = world.create("Setup", "<p>Between intro and install.</p>", parent=guides)
    world.reorder(setup["id"], "after", intro)
    assert world.children(guides) == ["Intro", "Setup", "Install", "FAQ", "Notes"]

    run = world.sync()
    assert run.code == 0 and "guides/setup.md" in run.paths("new_file"), run
    world.sync()  # whatever a second run has to settle
    # The colleague put it after Intro: no run may move it back without saying so.
    assert world.children(guides) == ["Intro", "Setup", "Install", "FAQ", "Notes"]
    assert_nothing_to_do(world, world.sync)


def test_after_pulling_a_new_page_the_next_push_writes_nothing(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    guides = world.page_id("guides/index.md")
    world.create("Appendix", "<p>Added last in Confluence.</p>", parent=guides)  # appended, as Cloud does
    run = world.pull()
    assert run.code == 0 and "guides/appendix.md" in run.paths("new_file"), run
    assert_nothing_to_do(world, world.push)  # pulled and in step: nothing to push


def test_a_new_file_here_does_not_undo_a_colleagues_reorder(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    guides = world.page_id("guides/index.md")
    world.reorder(world.page_id("guides/10-faq.md"), "before", world.page_id("guides/01-intro.md"))
    world.write("guides/zz-extra.md", "# Extra\n\nA new, unrelated file.\n")

    run = world.sync()
    assert run.code == 0, run
    children = world.children(guides)
    assert children.index("FAQ") < children.index("Intro"), (children, run.stdout)  # the colleague's move stands


def test_a_pull_that_writes_order_into_a_file_edited_here_keeps_the_edit_to_push(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    install = world.page_id("guides/02-install.md")
    world.write("guides/02-install.md", "# Install\n\nSecond, edited here.\n")
    world.reorder(world.page_id("guides/10-faq.md"), "before", world.page_id("guides/01-intro.md"))
    run = world.pull()
    assert run.code == 0, run
    assert "edited here" in world.read("guides/02-install.md")
    run = world.push()
    assert run.code == 0, run
    assert "edited here" in world.body(install), (world.body(install), run.stdout)  # the edit still reaches Confluence


def test_a_pulled_order_keeps_a_crlf_file_crlf(world: World) -> None:
    ordered_guides(world)
    world.write("guides/02-install.md", b"# Install\r\n\r\nSecond.\r\n\r\nMore.\r\n")
    pushed(world)
    world.reorder(world.page_id("guides/10-faq.md"), "before", world.page_id("guides/01-intro.md"))
    run = world.pull()
    assert run.code == 0 and run.paths("pull_order") == {"guides/*"}, run
    data = (world.docs / "guides/02-install.md").read_bytes()
    assert b"order: 3" in data
    assert data.count(b"\n") == data.count(b"\r\n"), data  # one line ending, as the file had


def test_a_cloud_folder_among_ordered_pages_keeps_its_place_and_the_pages_are_ordered(world: World) -> None:
    # A directory without an index file has no file to say a place in: its folder stays where
    # Confluence has it, and the pages around it take the order the files say.
    world.write("a.md", "---\norder: 3\n---\n# Alpha\n\nThird.\n")
    world.write("b.md", "---\norder: 1\n---\n# Bravo\n\nFirst.\n")
    world.write("2_stuff/thing.md", "# Thing\n\nIn a Cloud folder.\n")
    run = pushed(world)
    assert world.state()["2_stuff/"]["kind"] == "folder"
    children = [title for title in world.children(world.home_id) if title in ("Alpha", "Bravo")]
    assert children == ["Bravo", "Alpha"], (children, run.stdout)
    assert_nothing_to_do(world, world.sync)


def test_a_conflict_in_a_reordered_folder_keeps_the_edit_here(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    install = world.page_id("guides/02-install.md")
    world.write("guides/02-install.md", "# Install\n\nSecond, edited here.\n")
    world.edit(install, replace_text("Second.", "Second, edited there."))
    world.reorder(world.page_id("guides/10-faq.md"), "before", world.page_id("guides/01-intro.md"))
    first = world.sync()
    assert first.paths("conflict") == {"guides/02-install.md"}, first
    second = world.sync()
    text = world.read("guides/02-install.md")
    # The edit here is never thrown away: the file keeps it, or the conflict is still open.
    assert "edited here" in text or "edited here" in world.body(install), (text, second.stdout)


def test_archived_pages_in_an_ordered_folder_do_not_fail_every_sync(world: World) -> None:
    world.write("guides/README.md", "# Guides\n\nAll the guides.\n")
    world.write("guides/02-install.md", "# Install\n\nStep one.\n")
    world.write("guides/01-upgrade.md", "# Upgrade\n\nUpgrade notes.\n")
    pushed(world)
    world.trash(world.page_id("guides/README.md"))  # Cloud archives its children
    world.sync()
    world.reset_stats()
    again = world.sync()
    assert not again.actions("reorder"), again
    assert again.code == 0, again
    assert world.stats()["writes"] == 0, writes(world.stats())


def test_both_sides_reordered_is_not_settled_silently(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    guides = world.page_id("guides/index.md")
    world.reorder(world.page_id("guides/10-faq.md"), "before", world.page_id("guides/01-intro.md"))
    world.write("guides/notes.md", "---\norder: 5\n---\n# Notes\n\nNow between install and faq.\n")
    run = world.sync()
    children = world.children(guides)
    # Either the colleague's move stands, or the run says it undid it (a conflict).
    assert children.index("FAQ") < children.index("Intro") or run.actions("conflict"), (children, run.stdout)


def test_a_pulled_order_with_a_folder_page_sibling_converges(world: World) -> None:
    world.configure(folders="page")
    world.write("top/index.md", "# Top\n\nT.\n")
    world.write("top/b.md", "---\norder: 1\n---\n# Bravo\n\nB.\n")
    world.write("top/2_stuff/x.md", "# X\n\nIn a folder page with no index file.\n")
    world.write("top/a.md", "---\norder: 3\n---\n# Alpha\n\nA.\n")
    pushed(world)
    top = world.page_id("top/index.md")
    pages = [title for title in world.children(top) if title != "2_stuff"]
    assert pages == ["Bravo", "Alpha"]
    world.reorder(world.page_id("top/a.md"), "before", world.page_id("top/b.md"))
    run = world.sync()
    assert run.code == 0 and run.paths("pull_order") == {"top/*"}, run
    assert world.read("top/a.md").startswith("---\norder: 1\n---\n")
    assert_nothing_to_do(world, world.sync)
    assert [title for title in world.children(top) if title != "2_stuff"] == ["Alpha", "Bravo"]


@pytest.mark.parametrize("value", ["abc", "-1", "true", "1.5", "1000000000", "[1]", "'3'", "99999999999999999999"])
def test_an_invalid_order_is_reported_naming_the_file(world: World, value: str) -> None:
    ordered_guides(world)
    world.write("guides/notes.md", f"---\norder: {value}\n---\n# Notes\n\nBad order.\n")
    run = world.run("push")
    assert "Traceback" not in run.stderr
    assert "guides/notes.md" in run.stdout + run.stderr and "order must be" in (run.stdout + run.stderr), run


def test_renaming_the_number_prefix_converges(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    guides = world.page_id("guides/index.md")
    (world.docs / "guides/02-install.md").rename(world.docs / "guides/20-install.md")
    run = pushed(world)
    assert world.children(guides) == ["Intro", "FAQ", "Install", "Notes"], run
    assert_nothing_to_do(world, world.push)
    assert_nothing_to_do(world, world.sync)
    (world.docs / "guides/20-install.md").rename(world.docs / "guides/05-install.md")
    run = pushed(world)
    assert world.children(guides) == ["Intro", "Install", "FAQ", "Notes"], run
    assert_nothing_to_do(world, world.sync)


def test_a_file_moved_here_into_another_ordered_folder_converges(world: World) -> None:
    ordered_guides(world)
    world.write("other/index.md", "# Other\n\nOther.\n")
    world.write("other/01-one.md", "# One\n\n1.\n")
    world.write("other/03-three.md", "# Three\n\n3.\n")
    pushed(world)
    other = world.page_id("other/index.md")
    (world.docs / "guides/02-install.md").rename(world.docs / "other/02-install.md")
    run = pushed(world)
    assert world.children(other) == ["One", "Install", "Three"], run
    assert_nothing_to_do(world, world.push)
    assert_nothing_to_do(world, world.sync)


def test_a_page_moved_in_confluence_into_an_ordered_folder_converges(world: World) -> None:
    ordered_guides(world)
    world.write("other/index.md", "# Other\n\nOther.\n")
    world.write("other/01-one.md", "# One\n\n1.\n")
    world.write("other/03-three.md", "# Three\n\n3.\n")
    pushed(world)
    other = world.page_id("other/index.md")
    world.reorder(world.page_id("guides/02-install.md"), "after", world.page_id("other/01-one.md"))
    run = world.sync()
    assert run.code == 0, run
    world.sync()
    assert world.children(other) == ["One", "Install", "Three"]
    assert_nothing_to_do(world, world.sync)


def test_deleting_a_file_from_an_ordered_folder_converges(world: World) -> None:
    world.configure(sync="  max_delete: 50%\n  delete: trash\n")
    ordered_guides(world)
    pushed(world)
    (world.docs / "guides/02-install.md").unlink()
    run = pushed(world)
    assert "guides/02-install.md" in run.paths("trash"), run
    assert_nothing_to_do(world, world.push)
    assert_nothing_to_do(world, world.sync)


def test_index_file_order_and_root_level(world: World) -> None:
    world.write("index.md", "# Home body\n\nThe root.\n")
    world.write("b.md", "---\norder: 1\n---\n# Bravo\n\nB.\n")
    world.write("guides/index.md", "---\norder: 2\n---\n# Guides\n\nG.\n")
    world.write("guides/x.md", "# X\n\nX.\n")
    world.write("a.md", "---\norder: 3\n---\n# Alpha\n\nA.\n")
    run = world.push("--allow-home")
    assert run.code == 0, run
    assert world.children(world.home_id) == ["Bravo", "Guides", "Alpha"], run
    assert_nothing_to_do(world, world.push)
    world.reorder(world.page_id("a.md"), "before", world.page_id("b.md"))
    run = world.pull()
    assert run.code == 0 and run.paths("pull_order") == {"*"}, run
    assert world.read("a.md").startswith("---\norder: 1\n---\n")
    assert world.read("guides/index.md").startswith("---\norder: 3\n---\n")
    assert_nothing_to_do(world, world.sync)


def test_status_and_dry_run_after_a_reorder_there(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    world.reorder(world.page_id("guides/10-faq.md"), "before", world.page_id("guides/01-intro.md"))
    before = world.snapshot()
    world.reset_stats()
    status = world.run("status")
    assert status.code in (0, 1) and "Traceback" not in status.stderr, status
    assert "order" in status.stdout, status
    dry = world.sync("--dry-run")
    assert dry.code == 0 and dry.paths("pull_order") == {"guides/*"}, dry
    assert world.snapshot() == before
    assert world.stats()["writes"] == 0


def test_push_force_undoes_a_reorder_there_and_then_is_quiet(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    guides = world.page_id("guides/index.md")
    world.reorder(world.page_id("guides/10-faq.md"), "before", world.page_id("guides/01-intro.md"))
    run = world.push("--force")
    assert run.code == 0 and run.paths("reorder") == {"guides/*"}, run
    assert world.children(guides) == ["Intro", "Install", "FAQ", "Notes"]
    assert_nothing_to_do(world, world.push)
    assert_nothing_to_do(world, world.sync)


def test_order_inside_a_cloud_folder_both_ways(world: World) -> None:
    world.write("stuff/b.md", "---\norder: 2\n---\n# Bravo\n\nB.\n")
    world.write("stuff/a.md", "---\norder: 3\n---\n# Alpha\n\nA.\n")
    world.write("stuff/c.md", "---\norder: 1\n---\n# Charlie\n\nC.\n")
    run = pushed(world)
    folder = world.page_id("stuff/")
    assert world.children(folder, "folders") == ["Charlie", "Bravo", "Alpha"], run
    assert_nothing_to_do(world, world.sync)
    world.reorder(world.page_id("stuff/a.md"), "before", world.page_id("stuff/c.md"))
    run = world.sync()
    assert run.code == 0 and run.paths("pull_order") == {"stuff/*"}, run
    assert world.read("stuff/a.md").startswith("---\norder: 1\n---\n")
    assert_nothing_to_do(world, world.sync)
    assert world.children(folder, "folders") == ["Alpha", "Charlie", "Bravo"]
