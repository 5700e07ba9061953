"""No write without a change: a rerun writes nothing, a pulled edit is not pushed back,
and a one-file edit sends one listing and that page's writes.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    V2,
    World,
    assert_nothing_to_do,
    pushed,
    replace_text,
    small_tree,
    writes,
)

# -- no write without a change -----------------------------------------------------------------------


def test_second_push_and_sync_with_nothing_changed_write_nothing(world: World) -> None:
    small_tree(world)
    world.write("pic.md", "# Pictures\n\n![a](a.png)\n")
    world.write("a.png", b"png bytes")
    world.write("labelled.md", "---\nlabels: [x]\n---\n# Labelled\n\ntext\n")
    pushed(world)
    ids = {path: entry["page_id"] for path, entry in world.state().items()}
    before = world.snapshot()
    for command in (world.push, world.sync, world.pull):
        world.reset_stats()
        run = command()
        assert run.code == 0, run
        assert run.actions() == [], run.report
        assert world.stats()["writes"] == 0, writes(world.stats())
    assert world.snapshot() == before
    assert all(world.version(page_id) == 1 for page_id in ids.values())


RICH = """---
labels: [guide, rich]
owner: docs-team
---
# Getting Started

Read [the install guide](guides/install.md#step-two) first, then [the FAQ](faq.md).

![overview](img/overview.png)

- one
- two

```python
print("hello")
```

Last paragraph.
"""


def test_pulled_colleague_edit_is_not_pushed_back(world: World) -> None:
    small_tree(world)
    world.write("guides/install.md", "# Install\n\n## Step two\n\nStep two.\n")
    world.write("start.md", RICH)
    world.write("img/overview.png", b"\x89PNG overview")
    pushed(world)
    page_id = world.page_id("start.md")
    world.edit(page_id, replace_text("Last paragraph.", "Last paragraph, <strong>carefully</strong>."))
    run = world.pull()
    assert run.code == 0 and run.paths("pull") == {"start.md"}, run
    assert world.read("start.md") == RICH.replace("Last paragraph.", "Last paragraph, **carefully**.")
    world.reset_stats()
    for command in (world.push, world.sync):
        run = command()
        assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0, writes(world.stats())
    assert world.version(page_id) == 2
    assert world.labels(page_id) == {"guide", "rich"} and world.attachments(page_id) == {"overview.png"}


def test_sync_carries_changes_both_ways(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("intro.md", "# Introduction\n\nWelcome, edited here.\n\nSecond paragraph.\n")
    world.edit(world.page_id("faq.md"), replace_text("Questions and answers.", "Answers from Confluence."))
    world.write("guides/new-guide.md", "# New Guide\n\nFresh.\n")
    world.create("Remote Page", "<p>made in Confluence</p>", world.home_id)
    run = world.sync()
    assert run.code == 0, run
    assert {(a["action"], a["path"]) for a in run.actions()} == {
        ("update", "intro.md"), ("pull", "faq.md"), ("create", "guides/new-guide.md"),
        ("new_file", "remote-page.md")}
    assert "Welcome, edited here." in world.body(world.page_id("intro.md"))
    assert "Answers from Confluence." in world.read("faq.md")
    pages = world.by_title()
    assert str(pages["New Guide"]["parentId"]) == world.page_id("guides/README.md")
    assert "made in Confluence" in world.read("remote-page.md")
    world.reset_stats()
    run = world.sync()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


# -- a one-file edit -------------------------------------------------------------------------------------


def test_one_file_edit_updates_only_that_page_with_one_listing(world: World) -> None:
    small_tree(world)
    world.write("labelled.md", "---\nlabels: [keep-me]\n---\n# Labelled\n\n![x](x.png)\n")
    world.write("x.png", b"image")
    pushed(world)
    state = world.state()
    target = state["labelled.md"]["page_id"]
    world.write("labelled.md", "---\nlabels: [keep-me]\n---\n# Labelled\n\n![x](x.png)\n\nOne more line.\n")
    world.reset_stats()
    run = world.push()
    assert run.code == 0, run
    assert [(a["action"], a["path"]) for a in run.actions()] == [("update", "labelled.md")]
    log = world.stats()["log"]
    listings = [entry for entry in log if entry["path"] == f"{V2}/spaces/{world.space_id}/pages"]
    assert len(listings) == 1
    assert writes(world.stats()) == [("PUT", f"{V2}/pages/{target}")]
    touched = {entry["path"].split("/")[5] for entry in log if entry["path"].startswith(f"{V2}/pages/")}
    assert touched <= {target, world.home_id}, log
    assert world.version(target) == 2
    assert "One more line." in world.body(target)
    for path, entry in state.items():
        if path != "labelled.md":
            assert world.version(entry["page_id"]) == 1, path


def test_push_carries_title_label_and_attachment_changes(world: World) -> None:
    small_tree(world)
    world.write("pics.md", "---\nlabels: [a, b]\n---\n# Pictures\n\n![shot](shot.png)\n")
    world.write("shot.png", b"first image")
    pushed(world)
    page_id, faq = world.page_id("pics.md"), world.page_id("faq.md")
    world.write("pics.md", "---\nlabels: [b, c]\n---\n# Pictures\n\n![shot](shot.png)\n")
    world.write("shot.png", b"second image, larger")
    world.write("faq.md", "# Frequently Asked\n\nQuestions and answers.\n")
    run = world.push()
    assert run.code == 0, run
    assert world.labels(page_id) == {"b", "c"}
    attachment = world.api.get(f"{V2}/pages/{page_id}/attachments").json()["results"]
    assert [item["title"] for item in attachment] == ["shot.png"] and attachment[0]["version"]["number"] == 2
    assert world.page(faq)["title"] == "Frequently Asked" and world.version(faq) == 2
    assert_nothing_to_do(world, world.push)


def test_push_of_given_paths_and_another_config_file(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("intro.md", "# Introduction\n\nEdited.\n")
    world.write("guides/install.md", "# Install\n\nEdited too.\n")
    (world.root / "mdsync.yaml").rename(world.root / "elsewhere.yaml")
    run = world.run("push", "--config", "elsewhere.yaml", "--json", "docs/guides")
    assert run.code == 0, run
    assert run.paths("update") == {"guides/install.md"}
    assert world.version(world.page_id("guides/install.md")) == 2
    assert world.version(world.page_id("intro.md")) == 1
