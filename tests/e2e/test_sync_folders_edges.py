"""Cloud folders and archived pages at their edges: folders emptied, trashed, made again,
moved here; pages under archived pages; folders outside the tree; an empty folder adopted.

The real CLI against a sandbox (tests/support/world.py); ``sandbox_world`` also hands out
the sandbox's store, for what only Confluence's UI can do (move a folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mdsync.sandbox.app import create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.world import World, assert_nothing_to_do, pushed, small_tree, writes

V2 = "/wiki/api/v2"


@pytest.fixture
def sandbox_world(tmp_path: Path) -> Iterator[tuple[World, object]]:
    sandbox = create_sandbox(spaces=("DOCS",))
    with BackgroundServer(sandbox) as server:
        (tmp_path / "project").mkdir()
        project = World(tmp_path / "project", server)
        try:
            yield project, sandbox
        finally:
            project.close()


@pytest.fixture
def world(sandbox_world: tuple[World, object]) -> World:
    return sandbox_world[0]


def folder_status(world: World, folder_id: str) -> str | None:
    response = world.api.get(f"{V2}/folders/{folder_id}")
    return response.json().get("status") if response.status_code == 200 else None


def test_a_folder_emptied_in_confluence_is_not_trashed_by_the_next_sync(world: World) -> None:
    """A colleague moves the one page of the folder 'Runbooks' out of it (the folder stays,
    empty). The pull moves the file; the next sync (delete: trash) must not trash the
    colleague's folder, and must plan nothing."""
    world.configure(sync="  max_delete: 100%\n  delete: trash\n")
    small_tree(world)
    pushed(world)
    faq = world.page_id("faq.md")
    folder = world.create_folder("Runbooks", parent=world.home_id)
    world.move(faq, folder["id"])
    run = world.sync()
    assert run.code == 0 and world.exists("runbooks/faq.md"), run
    world.move(faq, world.home_id)
    run = world.sync()
    assert run.code == 0 and world.exists("faq.md"), run
    again = world.sync()
    assert again.code == 0, again
    assert folder_status(world, str(folder["id"])) == "current", again.actions()
    assert again.actions() == [], again.actions()


def test_a_new_directory_named_like_an_empty_folder_of_the_tree_is_pushed(world: World) -> None:
    """A colleague made an empty folder 'Later' under the tree's root; the user then writes
    Later/plan.md. The push must succeed (adopt the folder, as it adopts pages)."""
    small_tree(world)
    pushed(world)
    folder = world.create_folder("Later", parent=world.home_id)
    world.write("Later/plan.md", "# Plan\n\nThe plan.\n")
    run = world.push()
    assert run.code == 0, run
    assert world.page_id("Later/") == str(folder["id"])


def test_a_folder_trashed_in_confluence_is_not_made_again(world: World) -> None:
    """A colleague trashes the folder 'notes' (Cloud leaves its pages archived). The files are
    kept as archived; no later run may create a new folder 'notes' in its place."""
    world.write("notes/a.md", "# Note A\n\nFirst.\n")
    world.write("intro.md", "# Intro\n\nHello.\n")
    pushed(world)
    folder_id = world.page_id("notes/")
    assert world.api.delete(f"{V2}/folders/{folder_id}").status_code == 204
    run = world.sync()
    assert run.code == 0, run
    assert world.exists("notes/a.md")
    world.reset_stats()
    again = world.sync()
    assert again.code == 0, again
    assert not [w for w in writes(world.stats()) if w[0] == "POST"], (writes(world.stats()), again.actions())


def test_a_noop_sync_does_not_read_every_folder_of_the_space(world: World) -> None:
    """Other teams' folders outside the tree: a no-op sync must not send a request per folder."""
    small_tree(world)
    pushed(world)
    for number in range(10):
        folder = world.create_folder(f"Team {number}")  # at the space's root, outside the tree
        world.create(f"Team {number} page", "<p>Theirs.</p>", parent=folder["id"])
    world.sync()
    world.reset_stats()
    run = world.sync()
    assert run.code == 0 and run.actions() == [], run
    folder_reads = [entry["path"] for entry in world.stats()["log"] if "/folders/" in entry["path"]]
    assert len(folder_reads) <= 1, folder_reads


def test_a_folder_that_gets_an_index_file_becomes_a_page_without_archiving_its_pages(world: World) -> None:
    """notes/ was pushed as a Cloud folder; the user adds notes/index.md. Its pages must stay
    current (moved under the new page), and the run after must plan nothing."""
    world.configure(sync="  max_delete: 100%\n  delete: trash\n")
    world.write("notes/a.md", "# Note A\n\nFirst.\n")
    world.write("intro.md", "# Intro\n\nHello.\n")
    pushed(world)
    a_id = world.page_id("notes/a.md")
    world.write("notes/index.md", "# Notes\n\nAll the notes.\n")
    run = world.sync()
    assert run.code == 0, run
    assert world.page(a_id)["status"] == "current"
    assert str(world.page(a_id)["parentId"]) == world.page_id("notes/index.md")
    assert_nothing_to_do(world, world.sync)


def test_a_page_restored_from_the_archive_keeps_its_file(world: World) -> None:
    """The guides page is trashed, its children archived; a colleague restores 'Install' (back
    under the tree's root). The file must not be deleted; it follows or stays."""
    small_tree(world)
    pushed(world)
    guides, install = world.page_id("guides/README.md"), world.page_id("guides/install.md")
    world.trash(guides)
    run = world.sync()
    assert run.code == 0, run
    assert world.exists("guides/install.md")
    world.move(install, world.home_id)  # restored: current again, under the home page
    assert world.page(install)["status"] == "current"
    run = world.sync()
    assert run.code == 0, run
    assert world.exists("guides/install.md") or world.exists("install.md"), run.actions()
    assert world.page(install)["status"] == "current"


def test_a_page_moved_between_folders_in_confluence_moves_its_file(world: World) -> None:
    world.write("a/x.md", "# X page\n\nX.\n")
    world.write("b/y.md", "# Y page\n\nY.\n")
    pushed(world)
    x = world.page_id("a/x.md")
    world.move(x, world.page_id("b/"))
    run = world.sync()
    assert run.code == 0, run
    assert world.exists("b/x.md") and not world.exists("a/x.md"), run.actions()
    assert world.page(x)["status"] == "current"
    assert_nothing_to_do(world, world.sync)


def test_a_page_under_an_archived_page_keeps_its_file(world: World) -> None:
    """guides/README.md > guides/install/README.md > guides/install/step.md. A colleague trashes
    'Guides': 'Install' is left archived with no parent, and 'Step' stays current under it (the
    sandbox, as Cloud: only the direct children are archived). No file may be deleted: 'Step'
    was neither trashed nor deleted."""
    world.write("guides/README.md", "# Guides\n\nAll the guides.\n")
    world.write("guides/install/README.md", "# Install\n\nHow to install.\n")
    world.write("guides/install/step.md", "# Step\n\nStep one.\n")
    world.write("intro.md", "# Intro\n\nHello.\n")
    pushed(world)
    step = world.page_id("guides/install/step.md")
    world.trash(world.page_id("guides/README.md"))
    assert world.page(step)["status"] == "current"
    run = world.sync()
    assert run.code == 0, run
    assert world.exists("guides/install/step.md"), run.actions()
    assert "guides/install/step.md" not in run.paths("remove_file"), run.actions()


def test_a_page_in_a_folder_of_a_trashed_folder_keeps_its_file(world: World) -> None:
    """notes/ > notes/deeper/ > notes/deeper/b.md, all Cloud folders. A colleague trashes the
    folder 'notes': 'deeper' is left archived, 'Note B' current under it. Its file stays."""
    world.write("notes/deeper/b.md", "# Note B\n\nSecond.\n")
    world.write("notes/a.md", "# Note A\n\nFirst.\n")
    world.write("intro.md", "# Intro\n\nHello.\n")
    pushed(world)
    b = world.page_id("notes/deeper/b.md")
    assert world.api.delete(f"{V2}/folders/{world.page_id('notes/')}").status_code == 204
    assert world.page(b)["status"] == "current"
    run = world.sync()
    assert run.code == 0, run
    assert world.exists("notes/deeper/b.md"), run.actions()


def test_a_directory_moved_here_keeps_its_folder_and_says_how_to_move_it(
        sandbox_world: tuple[World, object]) -> None:
    """`git mv notes guides/notes`, notes/ a Cloud folder: Confluence's API cannot move a folder,
    so the push says so in one sentence, makes no second folder 'notes' and loses no page;
    once the folder is moved in Confluence (the sandbox's store does what Cloud's UI does),
    the next push takes it in and the one after has nothing to do."""
    world, sandbox = sandbox_world
    small_tree(world)
    world.write("notes/a.md", "# Note A\n\nFirst.\n")
    pushed(world)
    a, folder_id = world.page_id("notes/a.md"), world.page_id("notes/")
    (world.docs / "notes").rename(world.docs / "guides" / "notes")
    run = world.push()
    assert run.code == 1, run
    [failed] = [action for action in run.actions() if action["status"] == "failed"]
    assert failed["path"] == "notes/" and "move the folder 'notes' there in Confluence" in failed["message"]
    assert world.page_id("guides/notes/a.md") == a and world.page_id("guides/notes/") == folder_id
    assert world.page(a)["status"] == "current" and str(world.page(a)["parentId"]) == folder_id
    store = sandbox.store  # type: ignore[attr-defined]
    with store.transaction() as db:
        db.execute("UPDATE content SET parent_id = ? WHERE id = ?", (int(world.page_id("guides/README.md")),
                                                                      int(folder_id)))
    run = world.push()
    assert run.code == 0, run
    assert_nothing_to_do(world, world.push)


def test_a_parent_page_trashed_in_confluence_is_not_replaced_by_a_new_folder(world: World) -> None:
    """'Guides' (guides/README.md) is trashed in Confluence; its children are archived and their
    files kept. No run may then make a Cloud folder 'guides' the user never asked for."""
    small_tree(world)
    pushed(world)
    world.trash(world.page_id("guides/README.md"))
    assert world.sync().code == 0
    world.reset_stats()
    run = world.sync()
    assert run.code == 0, run
    assert not [w for w in writes(world.stats()) if w[0] == "POST"], (writes(world.stats()), run.actions())


def test_a_folder_with_a_subfolder_that_gets_an_index_file_archives_nothing(world: World) -> None:
    """notes/ and notes/deeper/ are Cloud folders; the user adds notes/index.md (delete: trash).
    Whatever the run does with 'deeper' (a folder the API cannot move), it must not trash the
    folder 'notes' while 'deeper' still sits in it: Cloud would leave 'deeper' archived."""
    world.configure(sync="  max_delete: 100%\n  delete: trash\n")
    world.write("notes/a.md", "# Note A\n\nFirst.\n")
    world.write("notes/deeper/b.md", "# Note B\n\nSecond.\n")
    world.write("intro.md", "# Intro\n\nHello.\n")
    pushed(world)
    deeper = world.page_id("notes/deeper/")
    world.write("notes/index.md", "# Notes\n\nAll the notes.\n")
    run = world.sync()
    assert folder_status(world, deeper) == "current", run.actions()
    assert world.page(world.page_id("notes/deeper/b.md"))["status"] == "current"
    [refused] = [action for action in run.actions() if action["action"] == "trash"]
    assert refused["status"] == "failed" and "notes/deeper/" in refused["message"], refused
