"""Cloud folders and archived pages: the page tree as Confluence Cloud has it.

A page moved into a folder is a move, never a delete; a folder made in Confluence pulls as a
directory; a directory without an index file is pushed as a folder; a page archived when its
parent was trashed keeps its file and is never pushed again as a new page.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import World, assert_nothing_to_do, pushed, small_tree


def test_a_page_moved_into_a_folder_and_out_again_moves_its_file_and_loses_nothing(world: World) -> None:
    small_tree(world)
    pushed(world)
    faq = world.page_id("faq.md")
    count = len(world.pages())
    folder = world.create_folder("Runbooks", parent=world.home_id)
    world.move(faq, folder["id"])

    status = world.run("status", "--json")
    assert status.code == 0, status
    assert "faq.md" not in status.paths("remove_file")
    run = world.pull()
    assert run.code == 0, run
    assert not world.exists("faq.md") and world.read("runbooks/faq.md") == "# FAQ\n\nQuestions and answers.\n"
    state = world.state()
    assert state["runbooks/"]["kind"] == "folder" and state["runbooks/"]["page_id"] == str(folder["id"])
    assert state["runbooks/faq.md"]["page_id"] == faq and state["runbooks/faq.md"]["parent_id"] == str(folder["id"])
    assert_nothing_to_do(world, world.sync)

    world.move(faq, world.home_id)
    run = world.pull()
    assert run.code == 0, run
    assert world.read("faq.md") == "# FAQ\n\nQuestions and answers.\n" and not world.exists("runbooks/faq.md")
    assert world.page_id("faq.md") == faq
    assert len(world.pages()) == count and not world.pages("trashed")  # nothing deleted, nothing made twice


def test_a_folder_made_in_confluence_pulls_as_a_directory(world: World) -> None:
    small_tree(world)
    pushed(world)
    ops = world.create_folder("Operations", parent=world.home_id)
    inner = world.create_folder("On call", parent=ops["id"])
    page = world.create("Rota", "<p>Who is on call.</p>", parent=inner["id"])

    run = world.sync()
    assert run.code == 0, run
    assert world.read("operations/on-call/rota.md").startswith("# Rota\n")
    state = world.state()
    assert (state["operations/"]["kind"], state["operations/on-call/"]["kind"]) == ("folder", "folder")
    assert state["operations/on-call/rota.md"]["page_id"] == str(page["id"])
    assert_nothing_to_do(world, world.sync)


def test_a_directory_without_an_index_file_is_pushed_as_a_folder(world: World) -> None:
    world.write("notes/a.md", "# Note A\n\nFirst.\n")
    world.write("notes/deeper/b.md", "# Note B\n\nSecond.\n")
    pushed(world)
    state = world.state()
    assert state["notes/"]["kind"] == "folder" and state["notes/deeper/"]["kind"] == "folder"
    notes = world.folder(state["notes/"]["page_id"])
    assert notes["title"] == "notes" and str(notes["parentId"]) == world.home_id
    a = world.page(state["notes/a.md"]["page_id"])
    assert str(a["parentId"]) == notes["id"] and a["parentType"] == "folder"
    b = world.page(state["notes/deeper/b.md"]["page_id"])
    assert str(b["parentId"]) == state["notes/deeper/"]["page_id"] and b["parentType"] == "folder"
    assert set(world.by_title()) == {"Note A", "Note B"} | {world.page(world.home_id)["title"]}  # no empty pages
    assert_nothing_to_do(world, world.push)
    assert_nothing_to_do(world, world.sync)

    # With folders: page, a new directory becomes an empty page titled after it, as before.
    (world.root / "mdsync.yaml").write_text((world.root / "mdsync.yaml").read_text() + "folders: page\n")
    world.write("more/c.md", "# Note C\n\nThird.\n")
    pushed(world)
    assert world.state()["more/"]["kind"] == "page" and "more" in world.by_title()


def test_a_folder_deleted_here_is_trashed_after_its_pages(world: World) -> None:
    world.configure(sync="  max_delete: 100%\n  delete: trash\n")
    world.write("keep.md", "# Keep\n\nStays.\n")
    world.write("old/a.md", "# Old A\n\nGoes.\n")
    pushed(world)
    folder_id = world.page_id("old/")
    (world.docs / "old" / "a.md").unlink()
    (world.docs / "old").rmdir()
    run = world.sync()
    assert run.code == 0, run
    assert world.api.get(f"/wiki/api/v2/folders/{folder_id}").json().get("status") in ("trashed", None)
    assert "old/" not in world.state() and "Old A" not in world.by_title()


def test_a_parent_trashed_in_confluence_leaves_its_children_archived_files_kept_no_duplicates(world: World) -> None:
    small_tree(world)
    pushed(world)
    guides, install = world.page_id("guides/README.md"), world.page_id("guides/install.md")
    count = len(world.pages())
    world.trash(guides)
    assert world.page(install)["status"] == "archived"  # as Cloud leaves them

    run = world.pull()
    assert run.code == 0, run
    archived = run.paths("archived")
    assert archived == {"guides/install.md", "guides/upgrade.md"}, run
    assert world.read("guides/install.md").startswith("# Install\n")  # kept
    assert not world.exists("guides/README.md")  # its page is in the trash: that delete is carried
    assert "guides/install.md" in world.state()

    status = world.run("status")
    assert "archived in Confluence" in status.stdout, status
    world.write("guides/install.md", "# Install\n\nStep one, edited.\n")
    run = world.push()
    assert run.code == 0, run
    assert "guides/install.md" in run.paths("archived")
    assert world.page(install)["status"] == "archived" and world.version(install) == 1
    assert len(world.pages()) == count - 3  # the trashed parent and its two archived children: none made again
