"""The docs folder's own index.md (or README.md) is the body of the page that holds the tree,
not a page beside the folders; the space's home page is written only when asked.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import World, assert_nothing_to_do, pushed, replace_text, writes


def _under_a_parent_page(world: World) -> str:
    parent = world.create("Engineering", "<p>Placeholder.</p>", parent=world.home_id)
    config = (world.root / "mdsync.yaml").read_text(encoding="utf-8")
    (world.root / "mdsync.yaml").write_text(config + "parent: Engineering\n", encoding="utf-8")
    return str(parent["id"])


def test_the_root_index_is_the_body_of_the_parent_page_both_ways(world: World) -> None:
    parent = _under_a_parent_page(world)
    world.write("index.md", "# Overview\n\nHow the tree is laid out.\n")
    world.write("guides/setup.md", "# Setup\n\nSteps.\n")
    world.write("faq.md", "# FAQ\n\nQuestions.\n")
    run = pushed(world)
    assert run.paths("adopt") == {"index.md"}, run
    page = world.page(parent)
    assert page["title"] == "Engineering"  # the page keeps its title (mdsync.yaml finds it by that title)
    body = page["body"]["storage"]["value"]
    assert "How the tree is laid out." in body and "Placeholder" not in body
    assert "<h1>Overview</h1>" in body  # the file's heading stays in the body, where the file has it
    pages = world.by_title()
    assert "Overview" not in pages and "index" not in pages  # no page beside the others
    assert str(pages["FAQ"]["parentId"]) == parent
    assert world.page_id("index.md") == parent
    assert_nothing_to_do(world, world.push)

    world.edit(parent, replace_text("How the tree is laid out.", "How the tree is laid out, edited in Confluence."))
    run = world.pull()
    assert run.code == 0 and run.paths("pull") == {"index.md"}, run
    assert world.read("index.md") == "# Overview\n\nHow the tree is laid out, edited in Confluence.\n"
    assert_nothing_to_do(world, world.sync)

    (world.docs / "index.md").unlink()
    run = world.sync("--delete")
    assert run.code == 0, run
    assert world.page(parent)["status"] == "current"  # never trashed: it holds the tree
    assert "index.md" not in world.state()


def test_the_home_page_is_written_only_when_asked(world: World) -> None:
    home_before = world.page(world.home_id)
    world.write("README.md", "The docs of the DOCS space.\n")
    world.write("intro.md", "# Introduction\n\nWelcome.\n")
    run = world.push()
    assert run.code == 1, run
    [problem] = run.report["problems"]  # type: ignore[index]
    assert "README.md" in problem and "--allow-home" in problem and "home_page: write" in problem
    assert world.version(world.home_id) == home_before["version"]["number"]  # nothing written
    assert "Introduction" not in world.by_title()  # the run stopped before writing anything

    run = world.push("--allow-home")
    assert run.code == 0, run
    home = world.page(world.home_id)
    assert home["title"] == home_before["title"] and "The docs of the DOCS space." in home["body"]["storage"]["value"]
    assert "Introduction" in world.by_title()
    assert_nothing_to_do(world, world.push)  # once tracked, the home page is the file's own
    world.write("README.md", "The docs of the DOCS space, second edition.\n")
    run = world.push()
    assert run.code == 0 and run.paths("update") == {"README.md"}, run
    assert "second edition" in world.body(world.home_id)


def test_resync_with_a_root_index_changes_nothing(world: World) -> None:
    parent = _under_a_parent_page(world)
    world.write("index.md", "# Overview\n\nHow the tree is laid out.\n")
    world.write("notes/a.md", "# Note A\n\nFirst.\n")
    world.write("faq.md", "# FAQ\n\nQuestions.\n")
    pushed(world)
    version = world.version(parent)
    world.reset_stats()
    run = world.sync("--resync")
    assert run.code == 0, run
    assert world.stats()["writes"] == 0, (writes(world.stats()), run.actions())
    assert world.version(parent) == version
    assert world.page_id("index.md") == parent
    assert_nothing_to_do(world, world.sync)


def test_resync_never_writes_the_home_page_unasked(world: World) -> None:
    world.write("README.md", "The docs of the DOCS space.\n")
    world.write("intro.md", "# Introduction\n\nWelcome.\n")
    assert world.push("--allow-home").code == 0
    world.edit(world.home_id, replace_text("The docs of the DOCS space.", "Edited on the home page."))
    world.write("README.md", "The docs, edited here.\n")
    # The state is lost; a resync under on_conflict: local must not write the home page unasked.
    run = world.sync("--resync", "--on-conflict", "local")
    assert "Edited on the home page." in world.body(world.home_id), run.actions()


def test_the_home_page_named_as_parent_is_guarded_too(world: World) -> None:
    """parent: names the space's home page itself (by title): the tree hangs under the home page
    all the same, so index.md must not overwrite it without --allow-home / home_page: write."""
    home = world.page(world.home_id)
    config = (world.root / "mdsync.yaml").read_text(encoding="utf-8")
    (world.root / "mdsync.yaml").write_text(config + f"parent: {world.home_id}\n", encoding="utf-8")
    world.write("index.md", "# Our docs\n\nOverwrites the home page.\n")
    world.write("intro.md", "# Introduction\n\nWelcome.\n")
    run = world.push()
    assert world.version(world.home_id) == home["version"]["number"], run.actions()
    assert run.code == 1 and "--allow-home" in " ".join(run.report["problems"]), run  # type: ignore[index]
