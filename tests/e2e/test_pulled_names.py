"""Pages whose titles the docs folder would read as something else (an index file, a conflict
copy, an attachment folder) pull to files of their own and stay in step: never taken for
deleted here, never trashed by the next sync.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import World, assert_nothing_to_do, pushed, small_tree


def test_pages_titled_like_index_conflict_or_attachment_names_stay_in_step(world: World) -> None:
    world.configure(sync="  max_delete: 100%\n  delete: trash\n", filenames="title")  # slugs have no dots
    small_tree(world)
    pushed(world)
    made = {title: str(world.create(title, f"<p>{title} by a colleague.</p>", parent=world.home_id)["id"])
            for title in ("Notes.remote", "Pics.assets", "index")}
    world.create("Inside", "<p>Under Pics.assets.</p>", parent=made["Pics.assets"])
    run = world.sync()
    assert run.code == 0, run
    assert {path for path in run.paths("new_file")} == {
        f"Notes.remote-{made['Notes.remote']}.md", f"Pics.assets-{made['Pics.assets']}.md",
        f"index-{made['index']}.md", f"Pics.assets-{made['Pics.assets']}/Inside.md"}
    assert_nothing_to_do(world, world.sync)  # nothing "deleted here", nothing trashed
    assert all(world.page(page_id)["status"] == "current" for page_id in made.values())
