"""A colleague edits pages in the Cloud editor; ``mdsync pull`` brings back exactly their edit.

End to end: the real CLI against the sandbox, whose ``editor-save`` re-saves a page as the
Cloud editor does (every block rewritten: local ids, ``<p>`` in cells and items, table
widths, code breakout, split marks...). The docs are the repository's sample_docs.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from tests.support import REPO
from tests.support.world import (
    V2,
    World,
    replace_text,
    writes,
)

SAMPLE_DOCS = REPO / "mdsync" / "sample_docs"
EDITED = "guides/installation.md"
OLD_SENTENCE = "or newer. If your shell cannot find"


def _with_sample_docs(world: World) -> None:
    shutil.rmtree(world.docs)
    shutil.copytree(SAMPLE_DOCS, world.docs)


def _files(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*.md"))}


def _editor_save_everything(world: World, changes: dict[str, tuple[str, str]]) -> None:
    for path, entry in world.state().items():
        if path.endswith("/"):
            continue
        change = changes.get(path)
        world.edit(str(entry["page_id"]), replace_text(*change) if change else None)


def test_pull_after_the_cloud_editor_saves_every_page_changes_only_the_edit(world: World) -> None:
    _with_sample_docs(world)
    assert world.push("--allow-home").code == 0  # sample_docs/index.md is the home page's body
    before = _files(world.docs)
    assert OLD_SENTENCE in before[EDITED]
    _editor_save_everything(world, {EDITED: (OLD_SENTENCE, "or later. If your shell cannot find")})
    saved = world.body(world.page_id("reference/api.md"))
    assert 'local-id="' in saved and "breakoutMode" in saved  # what the editor rewrites, it rewrote

    pulled = world.pull()
    assert pulled.code == 0, pulled
    after = _files(world.docs)
    assert after.keys() == before.keys()  # no file appeared (or went)
    changed = {path for path in before if before[path] != after[path]}
    assert changed == {EDITED}
    diff = [line for line in difflib.unified_diff(before[EDITED].splitlines(), after[EDITED].splitlines(), n=0,
                                                  lineterm="") if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(diff) == 2 and diff[0].startswith("-") and diff[1].startswith("+")
    assert diff[1] == "+" + diff[0][1:].replace("or newer.", "or later.")
    assert not any("mdsync" in text and "mdsync" not in before[path] for path, text in after.items())

    # Nothing to push back, nothing out of step; a second re-save changes no file.
    world.reset_stats()
    again = world.push()
    assert again.code == 0 and writes(world.stats()) == []
    assert world.run("status", "--check").code == 0
    checked = world.run("check")
    assert checked.code == 0, checked  # what the pulled files' kept regions refer to is there
    _editor_save_everything(world, {})
    assert world.pull().code == 0
    assert _files(world.docs) == after


def test_a_file_edited_after_an_editor_save_pushes_with_what_the_editor_added(world: World) -> None:
    world.write("data.md", "# Data\n\n| Name | Size |\n| --- | --: |\n| a | 1 |\n\n```python\nx = 1\n```\n")
    assert world.push().code == 0
    page_id = world.page_id("data.md")
    world.edit(page_id)  # the editor re-saves (table widths, code breakout) ...
    body = world.body(page_id).replace('data-table-width="760" data-layout="default"',
                                       'data-table-width="1200" data-layout="wide"', 1)
    world.edit(page_id, lambda _: body)  # ... then someone makes the table wide
    assert world.pull().code == 0
    text = world.read("data.md")
    assert "1200" not in text and "wide" not in text and "mdsync" not in text  # the file reads as Markdown
    world.write("data.md", text.replace("| a | 1 |", "| a | 1 |\n| b | 2 |"))
    assert world.push().code == 0
    pushed = world.body(page_id)
    assert 'data-table-width="1200"' in pushed and 'data-layout="wide"' in pushed and "breakoutMode" in pushed
    assert "<td>b</td>" in pushed or "<p>b</p>" in pushed


def test_a_re_saved_folder_page_stays_a_folder(world: World) -> None:
    world.configure(folders="page")  # a directory's page, as before Cloud had folders
    world.write("guides/install.md", "# Install\n\nSteps.\n")
    assert world.push().code == 0
    folder_id = world.page_id("guides/")
    world.edit(folder_id)  # a new version, the same body as the editor writes it
    pulled = world.pull()
    assert pulled.code == 0, pulled
    assert not world.exists("guides/index.md")
    assert world.state()["guides/"]["version"] == world.version(folder_id)


def test_resync_on_a_fresh_clone_of_a_pulled_tree_finds_no_conflict(world: World, tmp_path: Path) -> None:
    _with_sample_docs(world)
    assert world.push("--allow-home").code == 0  # sample_docs/index.md is the home page's body
    _editor_save_everything(world, {})
    assert world.pull().code == 0
    shutil.rmtree(world.root / ".mdsync")  # a fresh clone: the files, no state
    resync = world.sync("--resync")
    assert resync.code == 0, resync
    assert not resync.actions("conflict") and not list(world.docs.rglob("*.remote.md"))
    world.reset_stats()
    assert world.push().code == 0 and writes(world.stats()) == []


def test_a_fresh_clone_with_the_state_pushes_kept_content_exactly(world: World, tmp_path: Path) -> None:
    world.write("status.md", "# Status\n\nPlaceholder.\n")
    assert world.push().code == 0
    page_id = world.page_id("status.md")
    jira = ('<ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="j1"><ac:parameter '
            'ac:name="server">System JIRA</ac:parameter><ac:parameter ac:name="jqlQuery">project = OPS'
            "</ac:parameter></ac:structured-macro>")
    world.edit(page_id, lambda body: body + jira)
    assert world.pull().code == 0
    assert "eJ" not in world.read("status.md")  # the file holds a ref, not the macro's storage
    clone = tmp_path / "clone"
    shutil.copytree(world.root, clone)
    other = World.__new__(World)
    other.__dict__.update(world.__dict__, root=clone, docs=clone / "docs")
    other.write("status.md", other.read("status.md").replace("Placeholder.", "Updated here."))
    assert other.push().code == 0
    body = world.body(page_id)
    assert "Updated here." in body and "project = OPS" in body and 'ac:name="jira"' in body


def test_a_fresh_clone_without_the_state_takes_kept_content_from_the_page(world: World, tmp_path: Path) -> None:
    world.write("status.md", "# Status\n\nPlaceholder.\n")
    assert world.push().code == 0
    page_id = world.page_id("status.md")
    world.edit(page_id, lambda body: body + '<p>Build: <ac:structured-macro ac:name="status"><ac:parameter '
                                           'ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">OK'
                                           "</ac:parameter></ac:structured-macro></p>")
    assert world.pull().code == 0
    for copy in [*(world.root / ".mdsync" / "base").rglob("*.kept.json"),
                 *(world.root / ".mdsync" / "base").rglob("*.storage")]:
        copy.unlink()  # what the markers refer to is gone, and the page as pulled (the rest is there)
    world.write("status.md", world.read("status.md").replace("Placeholder.", "Updated here."))
    pushed = world.push()
    assert pushed.code == 0, pushed
    body = world.body(page_id)
    assert "Updated here." in body and 'ac:name="status"' in body and "Green" in body
    assert not any("refers to" in action["message"] for action in pushed.actions())
    assert world.api.get(f"{V2}/pages/{page_id}").status_code == 200


def test_a_diagram_pulls_with_its_picture_and_pushes_back_as_the_macro(world: World) -> None:
    body = ('<p>How the depots connect:</p><ac:structured-macro ac:name="drawio" ac:schema-version="1">'
            '<ac:parameter ac:name="diagramName">Network map</ac:parameter><ac:parameter ac:name="revision">3'
            "</ac:parameter></ac:structured-macro>")
    page = world.create("Network", body, parent=world.home_id)
    picture = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    uploaded = world.api.post(f"/wiki/rest/api/content/{page['id']}/child/attachment",
                              headers={"X-Atlassian-Token": "no-check"},
                              files={"file": ("Network map.png", picture, "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    pulled = world.pull()
    assert pulled.code == 0, pulled
    text = world.read("network.md")
    assert "![Network map](network.assets/Network%20map.png)" in text  # the name as uploaded, its link encoded
    assert (world.docs / "network.assets" / "Network map.png").read_bytes() == picture
    world.write("network.md", text.replace("How the depots connect:", "How our depots connect:"))
    assert world.push().code == 0
    pushed = world.body(page["id"])
    assert "How our depots connect:" in pushed and 'ac:name="drawio"' in pushed and "Network map" in pushed
    assert "<ac:image" not in pushed  # the picture is the diagram's own export, not a second image


def test_confluence_wins_when_asked_even_if_its_new_version_changed_nothing(world: World) -> None:
    world.write("a.md", "# A\n\nConfluence text.\n")
    assert world.push().code == 0
    page_id = world.page_id("a.md")
    # A local edit, then a colleague's re-save that changes nothing: "remote wins" takes Confluence's text.
    world.write("a.md", "# A\n\nLocal text.\n")
    world.edit(page_id)
    assert world.sync("--on-conflict", "remote").code == 0
    assert "Confluence text." in world.read("a.md")
    # The same after the state is rebuilt from a stale clone.
    shutil.rmtree(world.root / ".mdsync")
    world.write("a.md", "# A\n\nStale local text.\n")
    assert world.sync("--resync", "--on-conflict", "remote").code == 0
    assert world.sync().code == 0
    assert "Confluence text." in world.read("a.md") and "Stale" not in world.body(page_id)
