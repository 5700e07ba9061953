"""A push never overwrites a page changed in Confluence unless told to (``--force``).

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    World,
    assert_nothing_to_do,
    pushed,
    replace_text,
    small_tree,
)

# -- push never overwrites a Confluence edit ----------------------------------------------------------


def test_push_reports_page_changed_in_confluence_and_leaves_it(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("faq.md")
    world.edit(page_id, replace_text("Questions and answers.", "Questions, answers and more."))
    run = world.push()
    assert run.code == 0, run
    assert run.paths("remote_only") == {"faq.md"}
    assert world.version(page_id) == 2 and "answers and more" in world.body(page_id)

    # Changed on both sides: push stops on the conflict and overwrites nothing.
    world.write("faq.md", "# FAQ\n\nQuestions and answers, edited here.\n")
    run = world.push()
    assert run.code == 3, run
    assert run.paths("conflict") == {"faq.md"}
    assert world.version(page_id) == 2 and "answers and more" in world.body(page_id)
    assert world.read("faq.md") == "# FAQ\n\nQuestions and answers, edited here.\n"

    run = world.push("--force")
    assert run.code == 0, run
    assert world.version(page_id) == 3
    assert "edited here" in world.body(page_id) and "answers and more" not in world.body(page_id)
    assert_nothing_to_do(world, world.push)


def test_push_force_overwrites_page_changed_only_in_confluence(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("faq.md")
    world.edit(page_id, replace_text("Questions and answers.", "Rewritten by a colleague."))
    run = world.push("--force")
    assert run.code == 0, run
    body = world.body(page_id)
    assert "Questions and answers." in body and "Rewritten" not in body, \
        f"push --force left the Confluence edit in place: {body}"
