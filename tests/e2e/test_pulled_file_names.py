"""Pages a colleague made in Confluence pull to files named as docs-as-code repositories name
them (``colleague-faq.md``: lower case, hyphens, letters of every script kept), or after their
titles under ``pull.filenames: title``; links to files whose names hold spaces are written
percent-encoded (``Colleague%20FAQ.md``) and read back as the same file either way, and
what was pulled pushes back without a write.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

from tests.support.world import World, assert_nothing_to_do, pushed, small_tree, writes

PICTURE = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def link(title: str, text: str) -> str:
    return (f'<ac:link><ri:page ri:content-title="{title}" /><ac:plain-text-link-body><![CDATA[{text}]]>'
            "</ac:plain-text-link-body></ac:link>")


def colleague_pages(world: World, titles: list[str]) -> tuple[dict[str, str], str]:
    """The pages a colleague makes, each with a line of its own, and a page 'Links' that links
    to every one of them (ids by title, and the Links page's id)."""
    made = {title: str(world.create(title, f"<p>Written by a colleague: {title}.</p>", world.home_id)["id"])
            for title in titles}
    body = "".join(f"<p>{link(title, f'to {index}')}</p>" for index, title in enumerate(titles))
    return made, str(world.create("Links", body, world.home_id)["id"])


def attach_picture(world: World, page_id: str, name: str) -> None:
    uploaded = world.api.post(f"/wiki/rest/api/content/{page_id}/child/attachment",
                              headers={"X-Atlassian-Token": "no-check"}, files={"file": (name, PICTURE, "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    world.edit(page_id, lambda body: body + f'<p><ac:image><ri:attachment ri:filename="{name}" /></ac:image></p>')


def assert_pushes_back_unchanged(world: World) -> None:
    """The pulled files convert back to exactly the pages: a resync (which converts every file
    and compares it with its page) writes nothing, and neither does a push or a sync after it."""
    world.reset_stats()
    resync = world.sync("--resync")
    assert resync.code == 0, resync
    assert world.stats()["writes"] == 0, (writes(world.stats()), resync.actions())
    assert_nothing_to_do(world, world.push)
    assert_nothing_to_do(world, world.sync)


def test_pulled_pages_get_slug_names_and_links_to_them_push_back_unchanged(world: World) -> None:
    small_tree(world)
    pushed(world)
    titles = ["Colleague FAQ", "Руководство по API", "日本語ページ", "???", "A b", "a-b", "index", "Intro"]
    made, links_id = colleague_pages(world, titles)
    attach_picture(world, made["Colleague FAQ"], "Team photo.png")
    run = world.pull()
    assert run.code == 0, run
    # Two titles that slug alike: one keeps the name, the other gets its page id.
    alike = {made["A b"], made["a-b"]}
    suffixed = {f"a-b-{page_id}.md" for page_id in alike}
    expected = {"colleague-faq.md": "Colleague FAQ", "руководство-по-api.md": "Руководство по API",
                "日本語ページ.md": "日本語ページ", f"{made['???']}.md": "???",  # nothing left of it: the page id
                f"index-{made['index']}.md": "index",  # the docs folder would read index.md as the tree's own page
                f"intro-{made['Intro']}.md": "Intro",  # intro.md is taken (names differing in case clash)
                "links.md": "Links"}
    new_files = run.paths("new_file")
    assert expected.keys() <= new_files and "a-b.md" in new_files and len(new_files & suffixed) == 1, new_files
    assert len(new_files) == len(expected) + 2, new_files
    for path, title in expected.items():
        assert world.state()[path]["title"] == title
        assert f"Written by a colleague: {title}." in world.read(path) or path == "links.md"
    assert world.read("colleague-faq.md").startswith("# Colleague FAQ\n")  # the title is kept in the file
    # The picture keeps the name it was uploaded under; the link to it is percent-encoded.
    assert (world.docs / "colleague-faq.assets" / "Team photo.png").read_bytes() == PICTURE
    assert "![](colleague-faq.assets/Team%20photo.png)" in world.read("colleague-faq.md")
    links = world.read("links.md")
    for index, path in enumerate(["colleague-faq.md", "руководство-по-api.md", "日本語ページ.md", f"{made['???']}.md"]):
        assert f"[to {index}]({path})" in links, links
    assert f"[to 6](index-{made['index']}.md)" in links and f"[to 7](intro-{made['Intro']}.md)" in links, links
    assert world.by_title()["Links"]["id"] == links_id
    assert_pushes_back_unchanged(world)

    # A page retitled in Confluence keeps its file: the new title goes into the file.
    world.edit(made["Colleague FAQ"], title="Colleague FAQ (old)")
    run = world.pull()
    assert run.code == 0 and run.paths("pull") == {"colleague-faq.md"}, run
    assert world.read("colleague-faq.md").startswith("# Colleague FAQ (old)\n")
    assert not run.paths("new_file") and "colleague-faq-old.md" not in world.doc_files()
    assert_nothing_to_do(world, world.push)


def test_under_filenames_title_pulled_files_keep_their_titles_and_links_are_percent_encoded(world: World) -> None:
    world.configure(filenames="title")
    small_tree(world)
    pushed(world)
    made, _ = colleague_pages(world, ["Colleague FAQ", "Руководство по API"])
    attach_picture(world, made["Colleague FAQ"], "Team photo.png")
    run = world.pull()
    assert run.code == 0, run
    assert run.paths("new_file") == {"Colleague FAQ.md", "Руководство по API.md", "Links.md"}
    links = world.read("Links.md")
    assert "[to 0](Colleague%20FAQ.md)" in links and "[to 1](Руководство%20по%20API.md)" in links, links
    assert "<" not in links  # no <angle brackets> round a destination
    assert "![](Colleague%20FAQ.assets/Team%20photo.png)" in world.read("Colleague FAQ.md")
    assert (world.docs / "Colleague FAQ.assets" / "Team photo.png").read_bytes() == PICTURE
    assert_pushes_back_unchanged(world)


def test_a_link_with_spaces_reads_as_the_same_file_encoded_or_in_angle_brackets(world: World) -> None:
    world.write("Team notes.md", "# Team notes\n\nNotes.\n\n## Next steps\n\nSoon.\n")
    world.write("pics/my pic.png", PICTURE)
    world.write("links.md", "# Links\n\n[one](Team%20notes.md) [two](<Team notes.md>) "
                            "[three](Team%20notes.md#next-steps) [four](<Team notes.md#next-steps>)\n\n"
                            "![p](pics/my%20pic.png) ![q](<pics/my pic.png>)\n")
    run = world.push()
    assert run.code == 0 and not [action for action in run.actions() if action.get("warnings")], run.report
    body = world.body(world.page_id("links.md"))
    assert body.count('<ri:page ri:content-title="Team notes"') == 4, body
    assert body.count('ac:anchor="Next-steps"') == 2, body
    assert body.count('<ri:attachment ri:filename="my pic.png"') == 2, body
    assert world.attachments(world.page_id("links.md")) == {"my pic.png"}  # one upload for both
    assert "href" not in body  # no link left plain
    assert_nothing_to_do(world, world.push)
