"""Deletes: a deleted file keeps its page unless asked to trash it, and ``max_delete`` stops
a run that would trash too much.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    V2,
    World,
    pushed,
    small_tree,
)

# -- deletes ------------------------------------------------------------------------------------------------


def test_deleted_file_keeps_its_page_unless_asked_to_trash_it(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("faq.md")
    (world.docs / "faq.md").unlink()
    run = world.push()
    assert run.code == 0, run
    assert run.paths("keep") == {"faq.md"}
    assert world.page(page_id)["status"] == "current"
    run = world.push("--delete")
    assert run.code == 0, run
    assert run.paths("trash") == {"faq.md"}
    page = world.api.get(f"{V2}/pages/{page_id}", params={"status": "trashed"})
    assert page.status_code == 200 and page.json()["status"] == "trashed"  # in the trash, not purged
    assert "faq.md" not in world.state()

    # sync.delete: trash in mdsync.yaml does the same for sync.
    world.configure("  delete: trash\n  max_delete: 50%\n")
    intro = world.page_id("intro.md")
    (world.docs / "intro.md").unlink()
    run = world.sync()
    assert run.code == 0, run
    assert run.paths("trash") == {"intro.md"}
    assert world.api.get(f"{V2}/pages/{intro}", params={"status": "trashed"}).json()["status"] == "trashed"
    assert {page["id"] for page in world.pages("trashed")} == {page_id, intro}


def test_trashing_more_than_max_delete_stops_and_changes_nothing(world: World) -> None:
    small_tree(world)
    world.configure("  max_delete: 1\n")
    pushed(world)
    (world.docs / "intro.md").unlink()
    (world.docs / "faq.md").unlink()
    world.write("guides/install.md", "# Install\n\nChanged too.\n")
    before = world.snapshot()
    world.reset_stats()
    run = world.push("--delete")
    assert run.code == 1, run
    assert any("max_delete" in problem for problem in run.report["problems"]), run.report
    assert world.stats()["writes"] == 0
    assert world.snapshot() == before
    assert len(world.pages()) == 6 and len(world.pages("trashed")) == 0


# -- files a pull would remove --------------------------------------------------------------------------


def test_a_pull_that_would_remove_more_files_than_max_delete_stops_and_keeps_them(world: World) -> None:
    """Pages missing from the listing (view restrictions or a proxy can hide them) look
    trashed: past sync.max_delete the run stops before removing a single file."""
    world.configure("  max_delete: 20%\n")
    for number in range(10):
        world.write(f"part/page-{number}.md", f"# Page {number}\n\nText.\n")
    pushed(world)
    for number in range(3):
        world.trash(world.page_id(f"part/page-{number}.md"))
    run = world.pull()
    assert run.code == 1, run
    [problem] = run.report["problems"]  # type: ignore[index]
    assert "would remove 3 of" in problem and "sync.max_delete" in problem
    assert all(world.exists(f"part/page-{number}.md") for number in range(10))
    world.configure("  max_delete: 50%\n")
    run = world.pull()
    assert run.code == 0 and run.paths("remove_file") == {f"part/page-{n}.md" for n in range(3)}, run
    assert not world.exists("part/page-0.md") and world.exists("part/page-5.md")


def test_a_page_gone_from_the_listing_but_still_in_confluence_keeps_its_file(world: World) -> None:
    """The page is asked for before its file is removed: one moved out of the tree (or hidden
    by a restriction) is reported, and its file stays."""
    small_tree(world)
    outside = world.create("Elsewhere", "<p>Outside the tree.</p>", root_level=True)
    pushed(world)
    faq = world.page_id("faq.md")
    world.move(faq, str(outside["id"]))  # out of the tree, still current
    run = world.pull()
    assert run.code == 0, run
    [kept] = run.actions("remove_file")
    assert kept["path"] == "faq.md" and kept["status"] == "reported" and "the file is kept" in kept["message"]
    assert world.read("faq.md") == "# FAQ\n\nQuestions and answers.\n" and "faq.md" in world.state()
    world.trash(faq)  # now it is really gone: the file goes
    run = world.pull()
    assert run.code == 0 and not world.exists("faq.md"), run


# -- --max-delete, and the share in small and large trees ---------------------------------------------------


def test_the_only_page_of_a_one_page_tree_is_trashed_under_the_default_share(world: World) -> None:
    """1 of 1 is 100%, but a tree of fewer than 10 pages may lose 2 whatever the share."""
    world.configure("  delete: trash\n")  # max_delete: the default 20%
    world.write("only.md", "# Only\n\nThe one page.\n")
    pushed(world)
    page_id = world.page_id("only.md")
    (world.docs / "only.md").unlink()
    run = world.push()
    assert run.code == 0 and run.paths("trash") == {"only.md"}, run
    assert world.api.get(f"{V2}/pages/{page_id}", params={"status": "trashed"}).json()["status"] == "trashed"


def test_a_refused_delete_names_the_flag_that_allows_it_and_the_flag_does(world: World) -> None:
    world.configure("  delete: trash\n  max_delete: 0\n")
    world.write("only.md", "# Only\n\nThe one page.\n")
    pushed(world)
    page_id = world.page_id("only.md")
    (world.docs / "only.md").unlink()
    world.reset_stats()
    run = world.push()
    assert run.code == 1, run
    [problem] = run.report["problems"]  # type: ignore[index]
    assert "would trash 1 of 1 pages" in problem and "run again with --max-delete 1 to allow it" in problem
    assert world.stats()["writes"] == 0 and world.page(page_id)["status"] == "current"
    run = world.push("--max-delete", "1")
    assert run.code == 0 and run.paths("trash") == {"only.md"}, run
    assert world.api.get(f"{V2}/pages/{page_id}", params={"status": "trashed"}).json()["status"] == "trashed"
    bad = world.run("push", "--max-delete", "lots")
    assert bad.code == 2 and "--max-delete" in bad.stderr and "share like '20%'" in bad.stderr, bad


def test_the_share_applies_from_ten_pages_up_for_trash_and_removals_alike(world: World) -> None:
    world.configure("  delete: trash\n")  # 20%
    for number in range(10):
        world.write(f"part/page-{number}.md", f"# Page {number}\n\nText.\n")
    pushed(world)
    for number in range(3):  # 3 of 10: past 20%
        (world.docs / f"part/page-{number}.md").unlink()
    run = world.sync()
    assert run.code == 1 and "--max-delete 3" in run.report["problems"][0], run  # type: ignore[index]
    run = world.sync("--max-delete", "30%")
    assert run.code == 0 and len(run.paths("trash")) == 3, run
    # 7 files left, 3 of their pages trashed in Confluence: in a tree under 10, only 2 may go.
    for number in range(3, 6):
        world.trash(world.page_id(f"part/page-{number}.md"))
    run = world.pull()
    assert run.code == 1, run
    [problem] = run.report["problems"]  # type: ignore[index]
    assert "would remove 3 of" in problem and "--max-delete 3" in problem
    assert all(world.exists(f"part/page-{number}.md") for number in range(3, 10))
    run = world.pull("--max-delete", "3")
    assert run.code == 0 and len(run.paths("remove_file")) == 3, run
    assert not world.exists("part/page-3.md") and world.exists("part/page-6.md")
