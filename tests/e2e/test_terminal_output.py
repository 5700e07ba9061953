"""What a terminal would act on (ESC sequences, BEL, C1 controls, bidi overrides) never
reaches it raw: file names and Confluence's titles and messages are shown escaped (``\\x1b``)
by push, status, pull, sync and check, rich markup in a name is printed as written, and
``--json`` stays valid JSON with those characters as JSON escapes.

Confluence refuses C0 controls in titles (so does the sandbox); the titles here come from a
server that sends them anyway: the sandbox behind a proxy that rewrites a marker in its JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.proxies import Rewriting, world_behind
from tests.support.world import Run, World

# Raw, these would move the cursor, retitle the window, ring, or reorder the line.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MARKER = b"MARK"
HOSTILE = b"\\u001b]0;pwned\\u0007 \\u202eevil\\u009b"  # as JSON escapes, in Confluence's answers


def shown_safely(run: Run) -> str:
    text = run.stdout + run.stderr
    assert not UNSAFE.search(text), repr(text)
    assert "Traceback" not in text and "unexpected error" not in text, text
    return text


def test_file_names_with_escape_sequences_or_markup_are_printed_escaped(world: World) -> None:
    world.write("\x1b[31mred.md", "# Red\n\nSee [gone](missing.md).\n")
    world.write("[red]x.md", "# Markup\n\nText.\n")
    world.write("\u202eevil.md", "# Evil\n\nText.\n")
    pushed = shown_safely(world.run("push"))
    assert "\\x1b[31mred.md" in pushed and "\\u202eevil.md" in pushed
    assert "[red]x.md" in pushed  # printed as named, not read as a style
    world.write("\x1b[31mred.md", "# Red\n\nChanged. See [gone](missing.md).\n")
    assert "\\x1b[31mred.md" in shown_safely(world.run("status"))
    assert "\\x1b[31mred.md" in shown_safely(world.run("push", "--dry-run"))
    assert "\\x1b[31mred.md:3:" in shown_safely(world.run("check"))
    as_json = world.push()
    assert as_json.code == 0 and as_json.paths("update") == {"\x1b[31mred.md"}, as_json
    assert not UNSAFE.search(as_json.stdout), "JSON escapes them"


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[World]:
    """The sandbox, but every ``MARKER`` in an answer reads as ``HOSTILE``."""
    def wrap(app: Any) -> Rewriting:
        return Rewriting(app, lambda scope: True, lambda body: body.replace(MARKER, HOSTILE))

    with world_behind(tmp_path, wrap) as (world, _):
        world.configure(filenames="title")  # pulled files named after the hostile titles (a slug drops them)
        yield world


def test_titles_from_confluence_with_control_characters_are_printed_escaped(hostile: World) -> None:
    world = hostile
    world.write("a.md", "# A\n\nText.\n")
    assert world.push().code == 0
    page = world.create("Pwned MARK", "<p>From Confluence.</p>", parent=world.home_id)
    assert "\\u202eevil\\x9b" in shown_safely(world.run("status"))
    pulled = shown_safely(world.run("pull"))
    assert "\\u202eevil\\x9b" in pulled, pulled
    world.edit(page["id"], lambda body: body.replace("From Confluence.", "Edited in Confluence."))
    world.write("a.md", "# A\n\nChanged here.\n")
    assert "\\u202eevil\\x9b" in shown_safely(world.run("sync"))
    shown_safely(world.run("check"))
    (pulled_file,) = [name for name in world.doc_files() if name != "a.md"]
    # The pulled file's heading holds the ESC and BEL; pushing it back quotes the title in
    # Confluence's refusal, which is printed escaped too.
    world.write(pulled_file, world.read(pulled_file).replace("Edited", "Edited again"))
    refused = shown_safely(world.run("push"))
    assert "\\x1b]0;pwned\\x07" in refused, refused


def test_json_reports_escape_control_characters_and_stay_valid(hostile: World) -> None:
    world = hostile
    world.create("Pwned MARK", "<p>From Confluence.</p>", parent=world.home_id)
    run = world.pull()
    assert run.code == 0, run
    assert not UNSAFE.search(run.stdout)
    assert "\\u202e" in run.stdout and "\\u009b" in run.stdout  # JSON escapes, not the raw characters
    (created,) = run.actions("new_file")
    assert "\u202eevil\x9b" in created["path"]  # the data itself is kept
    assert json.loads(run.stdout) == run.report
