"""Blog posts: front matter publishes a file as a blog post, once.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import (
    V2,
    World,
    writes,
)

# -- blog posts ----------------------------------------------------------------------------------------------------


def test_blogpost_front_matter_publishes_a_blog_post_once(world: World) -> None:
    world.write("intro.md", "# Introduction\n\nWelcome.\n")
    world.write("launch.md", "---\ntype: blogpost\n---\n# We launched\n\nBig day.\n")
    run = world.push()
    assert run.code == 0, run
    posts = world.api.get(f"{V2}/spaces/{world.space_id}/blogposts").json()["results"]
    assert [post["title"] for post in posts] == ["We launched"]
    assert "We launched" not in world.by_title()
    post = world.page(posts[0]["id"], "blogposts")
    assert "Big day." in post["body"]["storage"]["value"]
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0, writes(world.stats())
    assert world.page(posts[0]["id"], "blogposts")["version"]["number"] == 1
