"""The first push builds the tree: folders, titles, labels, attachments and links.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from mdsync.storage.canonical import storage_digest
from mdsync.sync.conversions import WORKERS_FROM
from tests.support.world import (
    World,
    writes,
)

# -- the first push -------------------------------------------------------------------------------


def test_first_push_builds_the_tree_with_folders_titles_labels_attachments_and_links(world: World) -> None:
    world.write("intro.md", "---\nlabels: [welcome, start-here]\n---\n# Introduction\n\n"
                            "Read [the install guide](guides/install.md#step-two) and [the API](api/index.md).\n\n"
                            "![diagram](img/arch.png)\n\nThe [report](files/report.pdf).\n")
    world.write("img/arch.png", b"\x89PNG\r\n\x1a\nnot really a png")
    world.write("files/report.pdf", b"%PDF-1.4 a report")
    world.write("guides.md", "# Guides\n\nEverything about guides.\n")
    world.write("guides/install.md", "---\ntitle: Installing mdsync\n---\n# Setup\n\n## Step two\n\nRun it.\n")
    world.write("api/index.md", "# API Reference\n\nThe API.\n")
    world.write("api/auth.md", "Tokens and more.\n")
    world.write("ops/README.md", "# Operations\n\nRunning it.\n")
    world.write("ops/runbook.md", "# Runbook\n\nWhen it breaks.\n")
    world.write("misc/notes.md", "# Notes\n\nLoose notes.\n")

    run = world.push()
    assert run.code == 0, run
    assert run.report["mode"] == "push" and run.report["counts"] == {"create": 9}
    pages = world.by_title()
    misc = world.folder(world.page_id("misc/"))  # a directory without an index file: a Cloud folder
    assert misc["title"] == "misc" and str(misc["parentId"]) == world.home_id
    expected = {
        "Introduction": world.home_id, "Guides": world.home_id, "API Reference": world.home_id,
        "Operations": world.home_id,
        "Installing mdsync": pages["Guides"]["id"], "auth": pages["API Reference"]["id"],
        "Runbook": pages["Operations"]["id"], "Notes": misc["id"],
    }
    for title, parent in expected.items():
        assert title in pages, f"no page '{title}' among {sorted(pages)}"
        assert str(pages[title]["parentId"]) == str(parent), title
    assert set(pages) == set(expected) | {"DOCS Home"}

    intro = world.page(pages["Introduction"]["id"])
    body = intro["body"]["storage"]["value"]
    assert "<h1>" not in body and "Introduction" not in body  # the opening H1 is the title, not the body
    assert '<ri:page ri:content-title="Installing mdsync"' in body
    assert 'ac:anchor="Step-two"' in body
    assert '<ri:page ri:content-title="API Reference"' in body
    assert '<ri:attachment ri:filename="arch.png"' in body and '<ri:attachment ri:filename="report.pdf"' in body
    assert world.labels(intro["id"]) == {"welcome", "start-here"}
    assert world.attachments(intro["id"]) == {"arch.png", "report.pdf"}
    # A front-matter title leaves the file's H1 in the body.
    assert "<h1>Setup</h1>" in world.body(pages["Installing mdsync"]["id"])
    # A file with no title and no heading is named after the file.
    assert world.body(pages["auth"]["id"]) == "<p>Tokens and more.</p>"
    assert all(page["version"]["number"] == 1 for page in pages.values())


def test_a_push_of_many_files_converts_them_in_workers_and_lands_each_page_right(world: World) -> None:
    """Past WORKERS_FROM files the conversions run in worker processes (on a machine with a
    second core): links, anchors and images resolve as in process, and the state agrees."""
    count = WORKERS_FROM + 12
    world.write("img/logo.png", b"\x89PNG not really")
    for number in range(count):
        following = (number + 1) % count
        world.write(f"part-{number // 40}/page-{number}.md",
                    f"# Page {number}\n\nOn to [the next]({'../' + f'part-{following // 40}/page-{following}.md'}"
                    f"#steps).\n\n![logo](../img/logo.png)\n\n## Steps\n\n1. One.\n2. Two.\n")
    run = world.run("push", "--json", timeout=600)
    assert run.code == 0, run
    assert run.report["counts"].get("create") == count + count // 40 + 1  # the files, and a page per folder
    state = world.state()
    for number in (0, 1, WORKERS_FROM // 2, count - 1):
        entry = state[f"part-{number // 40}/page-{number}.md"]
        body = world.body(str(entry["page_id"]))
        following = (number + 1) % count
        assert f'ri:content-title="Page {following}"' in body and 'ac:anchor="Steps"' in body, body
        assert '<ri:attachment ri:filename="logo.png"' in body
        assert storage_digest(body) == entry["storage_hash"]
    world.reset_stats()
    assert world.sync().code == 0
    assert world.stats()["writes"] == 0, writes(world.stats())


def test_push_of_one_new_file_in_new_folders_makes_the_folders_too(world: World) -> None:
    world.write("intro.md", "# Introduction\n\nWelcome.\n")
    assert world.push().code == 0
    world.write("new/deeper/page.md", "# Deep Page\n\nFar down.\n")
    run = world.push("docs/new/deeper/page.md")
    assert run.code == 0, run
    assert sorted(run.paths("create")) == ["new/", "new/deeper/", "new/deeper/page.md"]
    pages = world.by_title()
    deeper, new = world.folder(world.page_id("new/deeper/")), world.folder(world.page_id("new/"))
    assert str(pages["Deep Page"]["parentId"]) == deeper["id"] and pages["Deep Page"]["parentType"] == "folder"
    assert str(deeper["parentId"]) == new["id"] and str(new["parentId"]) == world.home_id
