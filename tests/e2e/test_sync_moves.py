"""Renames and moves keep their pages: a file, a folder, an id in front matter, an index
file deleted; the same edit on both sides is no conflict.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

import os

from tests.support.world import (
    World,
    assert_nothing_to_do,
    pushed,
    replace_text,
    small_tree,
)

# -- renames and moves -----------------------------------------------------------------------------------


def test_renamed_file_keeps_its_page(world: World) -> None:
    small_tree(world)
    world.write("notes-page.md", "Loose notes without a heading.\n")
    pushed(world)
    intro, notes = world.page_id("intro.md"), world.page_id("notes-page.md")
    count = len(world.pages())
    os.rename(world.docs / "intro.md", world.docs / "welcome.md")
    os.rename(world.docs / "notes-page.md", world.docs / "jottings.md")  # the title is the file name
    run = world.push()
    assert run.code == 0, run
    assert world.page_id("welcome.md") == intro and world.page_id("jottings.md") == notes
    assert world.page(intro)["title"] == "Introduction" and world.version(intro) == 1
    assert world.page(notes)["title"] == "jottings" and world.versions(notes) == [1, 2]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0
    assert_nothing_to_do(world, world.push)


def test_file_moved_to_another_folder_moves_its_page(world: World) -> None:
    small_tree(world)
    world.write("api/index.md", "# API\n\nThe API.\n")
    pushed(world)
    page_id = world.page_id("guides/upgrade.md")
    count = len(world.pages())
    (world.docs / "api" / "upgrade.md").write_bytes((world.docs / "guides" / "upgrade.md").read_bytes())
    (world.docs / "guides" / "upgrade.md").unlink()
    run = world.push()
    assert run.code == 0, run
    page = world.page(page_id)
    assert page["status"] == "current" and str(page["parentId"]) == world.page_id("api/index.md")
    assert world.versions(page_id) == [1, 2]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0
    assert world.page_id("api/upgrade.md") == page_id


def test_renamed_folder_keeps_its_pages(world: World) -> None:
    small_tree(world)
    pushed(world)
    ids = {path: world.page_id(path) for path in ("guides/README.md", "guides/install.md", "guides/upgrade.md")}
    count = len(world.pages())
    os.rename(world.docs / "guides", world.docs / "tutorials")
    run = world.push()
    assert run.code == 0, run
    for path, page_id in ids.items():
        assert world.page_id(path.replace("guides/", "tutorials/")) == page_id
        assert world.page(page_id)["status"] == "current" and world.version(page_id) == 1
    assert str(world.page(ids["guides/install.md"])["parentId"]) == ids["guides/README.md"]
    assert len(world.pages()) == count


def test_moved_file_whose_page_changed_in_confluence_is_a_conflict_beside_the_file(world: World) -> None:
    small_tree(world)
    world.write("api/index.md", "# API\n\nThe API.\n")
    pushed(world)
    page_id = world.page_id("guides/upgrade.md")
    os.rename(world.docs / "guides" / "upgrade.md", world.docs / "api" / "upgrade.md")
    world.edit(page_id, replace_text("Upgrade notes.", "Upgrade notes from Confluence."))
    run = world.sync()
    assert run.code == 3, run
    assert world.read("api/upgrade.md") == "# Upgrade\n\nUpgrade notes.\n"
    assert str(world.page(page_id)["parentId"]) == world.page_id("guides/README.md") and world.version(page_id) == 2
    copies = sorted(path for path in world.doc_files() if path.endswith(".remote.md"))
    assert copies == ["api/upgrade.remote.md"], f"Confluence's version was written to {copies}"


def test_file_naming_its_page_id_is_matched_through_rename_and_edit(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/install.md")
    count = len(world.pages())
    (world.docs / "guides" / "install.md").unlink()
    world.write("setup.md", f"---\npage_id: '{page_id}'\n---\n# Setting up\n\nAll new text.\n")
    run = world.push()
    assert run.code == 0, run
    page = world.page(page_id)
    assert page["title"] == "Setting up" and str(page["parentId"]) == world.home_id
    assert "All new text." in page["body"]["storage"]["value"]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0
    assert world.page_id("setup.md") == page_id


def test_file_renamed_and_edited_at_once_keeps_its_page_by_title(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/install.md")
    count = len(world.pages())
    (world.docs / "guides" / "install.md").unlink()
    world.write("guides/installing.md", "# Install\n\nStep one, rewritten.\n")
    run = world.push()
    assert run.code == 0, run
    assert world.page_id("guides/installing.md") == page_id
    assert "rewritten" in world.body(page_id) and world.versions(page_id) == [1, 2]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0


def test_deleting_a_folders_index_file_keeps_its_page_as_it_is(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/README.md")
    count = len(world.pages())
    (world.docs / "guides" / "README.md").unlink()
    run = world.push()
    assert run.code == 0, run
    assert not run.report["problems"]
    assert world.page_id("guides/") == page_id
    page = world.page(page_id)
    assert page["title"] == "Guides" and "All the guides." in page["body"]["storage"]["value"]
    assert world.version(page_id) == 1 and len(world.pages()) == count
    assert str(world.page(world.page_id("guides/install.md"))["parentId"]) == page_id
    assert_nothing_to_do(world, world.push)


def test_the_same_edit_on_both_sides_is_not_a_conflict(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("faq.md")
    world.write("faq.md", "# FAQ\n\nQuestions and answers, and more.\n")
    world.edit(page_id, replace_text("Questions and answers.", "Questions and answers, and more."))
    run = world.sync()
    assert run.code == 0, run
    assert run.paths("agree") == {"faq.md"}
    assert not [path for path in world.doc_files() if path.endswith(".remote.md")]
    assert world.version(page_id) == 2  # nothing pushed: both sides already say the same
    assert_nothing_to_do(world, world.sync)
