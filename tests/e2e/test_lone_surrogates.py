"""A file that holds what UTF-8 cannot (a lone surrogate), or whose name is not UTF-8, is
refused by name, and the rest of the tree is pushed; ``check`` reports it, as text and as
JSON."""

from __future__ import annotations

import os

from tests.support.world import World

SURROGATE_TITLE = '---\ntitle: "\\uD800 x"\n---\nBody.\n'


def test_a_title_with_a_lone_surrogate_is_refused_by_name_and_the_rest_is_pushed(world: World) -> None:
    world.write("bad.md", SURROGATE_TITLE)
    world.write("good.md", "# Good\n\nA reference to half a pair: &#xD800; stays a visible mark.\n")
    run = world.push()
    assert run.code == 1, run
    (failed,) = [action for action in run.actions() if action["status"] == "failed"]
    assert failed["path"] == "bad.md"
    assert "'title' has a character that cannot be sent: a lone surrogate U+D800" in failed["message"]
    assert "fix the front matter" in failed["message"]
    assert run.paths("create") == {"good.md"}
    pages = world.by_title()
    assert "\ufffd" in world.body(pages["Good"]["id"])
    assert not [title for title in pages if title.endswith(" x")]  # no page for the refused file


def test_check_reports_the_lone_surrogate_as_text_and_as_json(world: World) -> None:
    world.write("bad.md", SURROGATE_TITLE)
    world.write("good.md", "# Good\n\nText.\n")
    text = world.run("check")
    assert text.code == 1, text
    assert "bad.md:2: front matter line 2: 'title' has a character that cannot be sent: a lone surrogate U+D800" \
        in text.stdout, text
    assert "Traceback" not in text.stderr
    as_json = world.run("check", "--json")
    assert as_json.code == 1 and as_json.report is not None, as_json
    (problem,) = as_json.report["problems"]
    assert (problem["path"], problem["line"], problem["kind"]) == ("bad.md", 2, "broken")
    assert "lone surrogate U+D800" in problem["message"]


def test_a_file_name_that_is_not_utf8_is_refused_by_name_and_the_rest_is_pushed(world: World) -> None:
    # Latin-1 "café.md": the byte 0xE9 followed by "." is no UTF-8 character.
    with open(os.fsencode(world.docs) + b"/caf\xe9.md", "wb") as file:
        file.write(b"# Cafe\n\nText.\n")
    world.write("good.md", "# Good\n\nText.\n")
    run = world.push()
    assert run.code == 1, run
    (failed,) = [action for action in run.actions() if action["status"] == "failed"]
    assert failed["path"] == "caf\\xe9.md" and "has a name that is not UTF-8" in failed["message"]
    assert "rename it" in failed["message"]
    assert run.paths("create") == {"good.md"} and "Cafe" not in world.by_title()
    status = world.run("status")
    assert "caf\\xe9.md" in status.stdout and "Traceback" not in status.stderr, status
    check = world.run("check", "--json")
    assert check.code == 1 and check.report is not None, check
    assert [problem["path"] for problem in check.report["problems"]] == ["caf\\xe9.md"]
