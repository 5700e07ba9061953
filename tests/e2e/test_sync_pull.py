"""Pull fetches only what changed in Confluence and writes it into the docs folder:
new pages as safely named files, moves as moves, trashed pages as removed files, and
never over a file changed here.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

import unicodedata

from tests.support.world import (
    FORBIDDEN_IN_NAMES,
    V2,
    World,
    assert_nothing_to_do,
    pushed,
    replace_text,
    small_tree,
)

# -- pull -----------------------------------------------------------------------------------------------


STYLED = """---
title: Style Guide
labels: [style]
owner: docs-team   # kept as written
---

Intro paragraph stays.

* first bullet
* second bullet

| Name | Value |
|:-----|------:|
| a    | 1     |

Second paragraph to change.

Closing   words.
"""


def test_pull_fetches_only_changed_pages_and_changes_only_the_edited_line(world: World) -> None:
    small_tree(world)
    world.write("style.md", STYLED)
    pushed(world)
    page_id = world.page_id("style.md")
    world.edit(page_id, replace_text("Second paragraph to change.", "Second paragraph, changed in Confluence."))
    others = world.snapshot()
    world.reset_stats()
    run = world.pull()
    assert run.code == 0, run
    assert run.paths("pull") == {"style.md"}
    page_reads = [entry["path"] for entry in world.stats()["log"]
                  if entry["method"] == "GET" and "body-format=storage" in entry["query"]]
    assert page_reads == [f"{V2}/pages/{page_id}"]
    assert world.stats()["writes"] == 0
    expected = STYLED.replace("Second paragraph to change.", "Second paragraph, changed in Confluence.")
    assert world.read("style.md") == expected
    after = world.snapshot()
    changed = {path for path in after if after[path] != others.get(path)} - {path for path in after
                                                                              if path.startswith(".mdsync/")}
    assert changed == {"docs/style.md"}


def test_pull_turns_new_confluence_pages_into_files_with_safe_names(world: World) -> None:
    world.configure(filenames="title")  # the titles as they are, made safe
    small_tree(world)
    pushed(world)
    hostile = 'a/b: "c"?*'
    unicode_title = "Über Café — 日本語"
    world.create(hostile, "<p>hostile body</p>", world.home_id)
    world.create(unicode_title, "<p>unicode body</p>", world.home_id)
    world.create("Troubleshooting", "<p>when it breaks</p>", world.page_id("guides/README.md"))
    clash = world.create("Intro", "<p>clashes with intro.md</p>", world.home_id)["id"]
    world.create("../escape", "<p>climbing</p>", world.home_id)
    world.create("CON", "<p>reserved on Windows</p>", world.home_id)
    run = world.pull()
    assert run.code == 0, run
    new = run.actions("new_file")
    assert len(new) == 6, run.report
    made = {action["path"] for action in new}
    for path in made:
        name = path.rsplit("/", 1)[-1]
        assert not FORBIDDEN_IN_NAMES & set(name), path
        assert (world.docs / path).resolve().is_relative_to(world.docs.resolve())
        assert world.exists(path)
    assert "guides/Troubleshooting.md" in made
    assert f"Intro-{clash}.md" in made and world.read("intro.md").startswith("# Introduction")
    assert "CON.md" not in made and all(".." not in path for path in made)
    assert unicodedata.normalize("NFC", f"{unicode_title}.md") in made
    hostile_file = next(path for path in made if "hostile body" in world.read(path))
    assert "/" not in hostile_file and hostile_file.endswith(".md")
    assert "unicode body" in world.read(unicodedata.normalize("NFC", f"{unicode_title}.md"))
    assert "when it breaks" in world.read("guides/Troubleshooting.md")
    # The new files are in step: nothing to push, no page renamed.
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0
    assert {hostile, unicode_title, "Troubleshooting", "Intro", "../escape", "CON"} <= set(world.by_title())


def test_pull_moves_the_file_of_a_page_moved_in_confluence(world: World) -> None:
    small_tree(world)
    world.write("api/index.md", "# API\n\nThe API.\n")
    pushed(world)
    page_id = world.page_id("guides/upgrade.md")
    text = world.read("guides/upgrade.md")
    world.edit(page_id, parent=world.page_id("api/index.md"))
    run = world.pull()
    assert run.code == 0, run
    assert not world.exists("guides/upgrade.md")
    assert world.read("api/upgrade.md") == text
    assert world.page_id("api/upgrade.md") == page_id and "guides/upgrade.md" not in world.state()
    assert_nothing_to_do(world, world.push)


def test_a_page_with_children_moved_in_confluence_takes_its_folder_along(world: World) -> None:
    small_tree(world)
    world.write("guides/install.assets/shot.png", b"png bytes")
    world.write("guides/install.md", "# Install\n\nStep one.\n\n![shot](install.assets/shot.png)\n")
    pushed(world)
    ids = {path: world.page_id(path) for path in ("guides/README.md", "guides/install.md", "guides/upgrade.md")}
    texts = {path: world.read(path) for path in ids}
    world.edit(ids["guides/README.md"], parent=world.page_id("faq.md"))
    run = world.sync()
    assert run.code == 0, run
    assert run.paths("move_folder") == {"guides/"}
    assert not world.exists("guides/README.md") and not (world.docs / "guides").exists()
    for path, page_id in ids.items():
        moved = "faq/" + path
        assert world.read(moved) == texts[path]
        assert world.page_id(moved) == page_id
    assert (world.docs / "faq/guides/install.assets/shot.png").read_bytes() == b"png bytes"
    assert str(world.page(ids["guides/README.md"])["parentId"]) == world.page_id("faq.md")
    assert_nothing_to_do(world, world.push)
    assert str(world.page(ids["guides/README.md"])["parentId"]) == world.page_id("faq.md")


def test_a_folder_page_move_its_files_cannot_follow_is_reported_not_undone(world: World) -> None:
    small_tree(world)
    world.write("faq/guides.md", "# Guide notes\n\nIn the way.\n")
    pushed(world)
    guides = world.page_id("guides/README.md")
    world.edit(guides, parent=world.page_id("faq.md"))
    run = world.sync()
    assert run.code == 3, run
    assert run.paths("conflict") == {"guides/README.md"}
    assert "cannot follow" in run.actions("conflict")[0]["message"]
    assert world.exists("guides/README.md") and world.read("faq/guides.md") == "# Guide notes\n\nIn the way.\n"
    push = world.push()
    assert push.code == 0, push
    assert str(world.page(guides)["parentId"]) == world.page_id("faq.md"), "a push moved the page back"


def test_pull_removes_the_unchanged_file_of_a_trashed_page_but_keeps_a_changed_one(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.trash(world.page_id("faq.md"))
    world.trash(world.page_id("guides/upgrade.md"))
    world.write("guides/upgrade.md", "# Upgrade\n\nUpgrade notes, edited here.\n")
    run = world.pull()
    assert run.code == 3, run
    assert run.paths("remove_file") == {"faq.md"}
    assert run.paths("conflict") == {"guides/upgrade.md"}
    assert not world.exists("faq.md")
    assert world.read("guides/upgrade.md") == "# Upgrade\n\nUpgrade notes, edited here.\n"


def test_pull_never_overwrites_a_locally_changed_file(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("intro.md")
    # The same line edited on both sides: no merge takes it (edits to different lines merge).
    world.edit(page_id, replace_text("Welcome to the docs.", "Welcome to the docs, edited in Confluence."))
    mine = "# Introduction\n\nWelcome to the docs, edited here.\n\nSecond paragraph.\n"
    world.write("intro.md", mine)
    run = world.pull()
    assert run.code == 3, run
    assert run.paths("conflict") == {"intro.md"}
    assert world.read("intro.md") == mine
    assert world.version(page_id) == 2


def test_pull_of_pages_retitled_in_confluence_keeps_file_and_pushes_nothing(world: World) -> None:
    small_tree(world)
    world.write("auth.md", "Tokens.\n")  # titled after its file name
    world.write("titled.md", "---\ntitle: Front Title\n---\nBody.\n")
    pushed(world)
    for path, title in (("guides/install.md", "Installation"), ("auth.md", "Authentication"),
                        ("titled.md", "Front Title Renamed")):
        world.edit(world.page_id(path), title=title)
    run = world.pull()
    assert run.code == 0, run
    assert run.paths("pull") == {"guides/install.md", "auth.md", "titled.md"}
    assert world.read("guides/install.md").startswith("# Installation\n")
    assert "Front Title Renamed" in world.read("titled.md")
    assert world.exists("auth.md") and world.exists("guides/install.md")
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0
    assert {"Installation", "Authentication", "Front Title Renamed"} <= set(world.by_title())


def test_pull_of_pages_added_under_a_leaf_page_and_a_folder_page(world: World) -> None:
    small_tree(world)
    world.write("misc/notes.md", "# Notes\n\nLoose.\n")
    pushed(world)
    world.create("FAQ Details", "<p>details</p>", world.page_id("faq.md"))
    world.create("More Notes", "<p>more</p>", world.page_id("misc/"))
    run = world.pull()
    assert run.code == 0, run
    assert run.paths("new_file") == {"faq/faq-details.md", "misc/more-notes.md"}
    assert "details" in world.read("faq/faq-details.md") and "more" in world.read("misc/more-notes.md")
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0
