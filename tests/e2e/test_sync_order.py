"""Sibling order: the files say it (front matter ``order:`` or a number before the name, as
docs sites sort), Confluence keeps it, a reorder in Confluence comes back into the files, and
an order in step costs no request.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    World,
    assert_nothing_to_do,
    ordered_guides,
    pushed,
    writes,
)


def test_sibling_order_is_pushed_and_an_order_in_step_costs_nothing(world: World) -> None:
    ordered_guides(world)
    run = pushed(world)
    assert run.paths("reorder") == {"guides/*"}, run
    guides = world.page_id("guides/index.md")
    assert world.children(guides) == ["Intro", "Install", "FAQ", "Notes"]
    assert_nothing_to_do(world, world.push)
    assert_nothing_to_do(world, world.sync)

    # Changed here: front matter 'order:' wins over the name's number.
    world.write("guides/notes.md", "---\norder: 0\n---\n# Notes\n\nNow first.\n")
    world.reset_stats()
    run = pushed(world)
    assert world.children(guides) == ["Notes", "Intro", "Install", "FAQ"], run
    moves = [path for method, path in writes(world.stats()) if "/move/" in path]
    assert len(moves) == 1, writes(world.stats())  # the fewest moves: only the page that changed place
    assert_nothing_to_do(world, world.sync)


def test_a_reorder_in_confluence_is_pulled_into_the_files(world: World) -> None:
    ordered_guides(world)
    pushed(world)
    guides = world.page_id("guides/index.md")
    faq, intro = world.page_id("guides/10-faq.md"), world.page_id("guides/01-intro.md")
    moved = world.api.put(f"/wiki/rest/api/content/{faq}/move/before/{intro}")  # dragged in the page tree
    assert moved.status_code == 200, moved.text
    assert world.children(guides) == ["FAQ", "Intro", "Install", "Notes"]

    push = world.push()
    assert push.code == 0 and "guides/*" in push.paths("remote_only"), push  # push never undoes it quietly
    assert world.children(guides) == ["FAQ", "Intro", "Install", "Notes"]
    run = world.pull()
    assert run.code == 0 and run.paths("pull_order") == {"guides/*"}, run
    assert world.read("guides/10-faq.md") == "---\norder: 1\n---\n# FAQ\n\nTenth.\n"
    assert world.read("guides/01-intro.md") == "---\ntitle: Intro\norder: 2\n---\nFirst.\n"
    assert world.read("guides/02-install.md") == "---\norder: 3\n---\n# Install\n\nSecond.\n"
    assert_nothing_to_do(world, world.sync)
    assert world.children(guides) == ["FAQ", "Intro", "Install", "Notes"]


def test_a_folder_where_no_file_says_a_place_keeps_confluences_order(world: World) -> None:
    world.write("b.md", "# Bravo\n\nB.\n")
    world.write("a.md", "# Alpha\n\nA.\n")
    pushed(world)
    before = world.children(world.home_id)
    alpha, bravo = world.page_id("a.md"), world.page_id("b.md")
    first, second = (alpha, bravo) if before.index("Alpha") < before.index("Bravo") else (bravo, alpha)
    assert world.api.put(f"/wiki/rest/api/content/{second}/move/before/{first}").status_code == 200
    assert_nothing_to_do(world, world.sync)  # no file says an order: Confluence's stands, no file is touched
