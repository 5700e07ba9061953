"""The sync engine end to end: the real CLI (``python -m mdsync``) against a sandbox.

Each test gets a fresh sandbox on a free loopback port, a temporary folder with an
``mdsync.yaml`` and a ``docs/`` tree, and drives ``push``, ``pull``, ``sync`` and ``status``
as subprocesses, reading their ``--json`` reports. A colleague's edits in Confluence are
made through the REST API, which also shows what the commands left there. The sandbox's
``/_sandbox/stats`` counters tell how many requests (and writes) a command sent.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer

V2 = "/wiki/api/v2"
MDSYNC = [sys.executable, "-m", "mdsync"]
FORBIDDEN_IN_NAMES = set('/\\:*?"<>|')


# -- the world one test works in -------------------------------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def actions(self, kind: str | None = None) -> list[dict[str, Any]]:
        assert self.report is not None, self.stdout + self.stderr
        return [action for action in self.report["actions"] if kind is None or action["action"] == kind]

    def paths(self, kind: str) -> set[str]:
        return {action["path"] for action in self.actions(kind)}

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"


class World:
    """One sandbox, one project folder, and a colleague's REST client."""

    def __init__(self, root: Path, server: BackgroundServer) -> None:
        self.root = root
        self.docs = root / "docs"
        self.docs.mkdir()
        self.server = server
        self.url = server.url
        self.api = httpx.Client(base_url=self.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=20)
        space = self.api.get(f"{V2}/spaces", params={"keys": "DOCS"}).json()["results"][0]
        self.space_id = str(space["id"])
        self.home_id = str(space["homepageId"])
        self.configure()

    def close(self) -> None:
        self.api.close()

    # -- the project folder --

    def configure(self, sync: str = "  max_delete: 50%\n") -> None:
        (self.root / "mdsync.yaml").write_text(
            "confluence:\n"
            f"  url: {self.url}\n"
            "  auth: token\n"
            f"  email: {DEFAULT_EMAIL}\n"
            f"  token: {DEFAULT_TOKEN}\n"
            "space: DOCS\n"
            "docs: docs\n"
            + (f"sync:\n{sync}" if sync else ""),
            encoding="utf-8")

    def write(self, path: str, text: str | bytes) -> None:
        target = self.docs / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")

    def read(self, path: str) -> str:
        return (self.docs / path).read_text(encoding="utf-8")

    def exists(self, path: str) -> bool:
        return (self.docs / path).exists()

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the project folder (docs and .mdsync) with its bytes."""
        return {file.relative_to(self.root).as_posix(): file.read_bytes()
                for file in sorted(self.root.rglob("*")) if file.is_file()}

    def doc_files(self) -> set[str]:
        return {file.relative_to(self.docs).as_posix() for file in self.docs.rglob("*.md")}

    def state(self) -> dict[str, Any]:
        return json.loads((self.root / ".mdsync" / "state.json").read_text(encoding="utf-8"))["files"]

    def page_id(self, path: str) -> str:
        return str(self.state()[path]["page_id"])

    # -- the command line --

    def run(self, *args: str, timeout: float = 60) -> Run:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MDSYNC_")}
        env.update(COLUMNS="250", NO_COLOR="1", PYTHONIOENCODING="utf-8")
        done = subprocess.run([*MDSYNC, *args], cwd=self.root, capture_output=True, text=True, encoding="utf-8",
                              env=env, timeout=timeout)
        report = None
        if "--json" in args:
            try:
                report = json.loads(done.stdout)
            except json.JSONDecodeError:
                raise AssertionError(f"mdsync {' '.join(args)} printed no JSON document:\n"
                                     f"{done.stdout}\n{done.stderr}") from None
        return Run(done.returncode, done.stdout, done.stderr, report)

    def push(self, *args: str) -> Run:
        return self.run("push", "--json", *args)

    def pull(self, *args: str) -> Run:
        return self.run("pull", "--json", *args)

    def sync(self, *args: str) -> Run:
        return self.run("sync", "--json", *args)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MDSYNC_")}
        return subprocess.Popen([*MDSYNC, *args], cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)

    # -- Confluence, as a colleague sees it --

    def pages(self, status: str = "current") -> list[dict[str, Any]]:
        response = self.api.get(f"{V2}/spaces/{self.space_id}/pages", params={"limit": 250, "status": status})
        assert response.status_code == 200, response.text
        assert not response.json()["_links"].get("next"), "more pages than one listing holds"
        return response.json()["results"]

    def by_title(self) -> dict[str, dict[str, Any]]:
        pages = self.pages()
        titles = [page["title"] for page in pages]
        assert len(titles) == len(set(titles)), f"duplicate titles: {titles}"
        return {page["title"]: page for page in pages}

    def page(self, page_id: str, kind: str = "pages") -> dict[str, Any]:
        response = self.api.get(f"{V2}/{kind}/{page_id}", params={"body-format": "storage"})
        assert response.status_code == 200, response.text
        return response.json()

    def body(self, page_id: str) -> str:
        return self.page(page_id)["body"]["storage"]["value"]

    def version(self, page_id: str) -> int:
        return int(self.page(page_id)["version"]["number"])

    def versions(self, page_id: str) -> list[int]:
        response = self.api.get(f"{V2}/pages/{page_id}/versions", params={"limit": 250})
        return sorted(int(item["number"]) for item in response.json()["results"])

    def labels(self, page_id: str) -> set[str]:
        return {item["name"] for item in self.api.get(f"{V2}/pages/{page_id}/labels").json()["results"]}

    def attachments(self, page_id: str) -> set[str]:
        return {item["title"] for item in self.api.get(f"{V2}/pages/{page_id}/attachments").json()["results"]}

    def edit(self, page_id: str, change: Callable[[str], str] | None = None, *, title: str | None = None,
             parent: str | None = None) -> dict[str, Any]:
        """A colleague saves the page in Confluence: a new version.

        A change of text or title is made in the Cloud editor (the sandbox re-saves the whole
        page as the editor does); a move, in the page tree, through the REST API.
        """
        current = self.page(page_id)
        if parent is None:
            body = current["body"]["storage"]["value"]
            edited: dict[str, str] = {"title": title} if title else {}
            if change:
                edited["storage"] = change(body)
                assert edited["storage"] != body, "the edit changed nothing"
            response = self.api.post(f"/_sandbox/pages/{page_id}/editor-save", json=edited)
            assert response.status_code == 200, response.text
            return response.json()
        body = current["body"]["storage"]["value"]
        new_body = change(body) if change else body
        if change:
            assert new_body != body, "the edit changed nothing"
        payload = {"id": page_id, "status": "current", "title": title or current["title"],
                   "parentId": parent or current["parentId"],
                   "body": {"representation": "storage", "value": new_body},
                   "version": {"number": current["version"]["number"] + 1, "message": "edited in Confluence"}}
        response = self.api.put(f"{V2}/pages/{page_id}", json=payload)
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, title: str, body: str, parent: str | None = None, *, root_level: bool = False,
               kind: str = "pages") -> dict[str, Any]:
        payload: dict[str, Any] = {"spaceId": self.space_id, "status": "current", "title": title,
                                   "body": {"representation": "storage", "value": body}}
        if parent:
            payload["parentId"] = parent
        response = self.api.post(f"{V2}/{kind}", json=payload, params={"root-level": "true"} if root_level else None)
        assert response.status_code == 200, response.text
        return response.json()

    def trash(self, page_id: str) -> None:
        assert self.api.delete(f"{V2}/pages/{page_id}").status_code == 204

    def reset_stats(self) -> None:
        assert self.api.delete("/_sandbox/stats").status_code == 200

    def stats(self) -> dict[str, Any]:
        return self.api.get("/_sandbox/stats").json()

    def faults(self, **settings: Any) -> None:
        response = self.api.put("/_sandbox/faults", json=settings)
        assert response.status_code == 200, response.text


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with BackgroundServer(create_sandbox(spaces=("DOCS",))) as server:
        (tmp_path / "project").mkdir()
        project = World(tmp_path / "project", server)
        try:
            yield project
        finally:
            project.close()


def writes(stats: dict[str, Any]) -> list[tuple[str, str]]:
    return [(entry["method"], entry["path"]) for entry in stats["log"] if entry["method"] in ("POST", "PUT", "DELETE")]


def small_tree(world: World) -> None:
    """Five pages: two top-level files, a folder with its README, and a page in it."""
    world.write("intro.md", "# Introduction\n\nWelcome to the docs.\n\nSecond paragraph.\n")
    world.write("faq.md", "# FAQ\n\nQuestions and answers.\n")
    world.write("guides/README.md", "# Guides\n\nAll the guides.\n")
    world.write("guides/install.md", "# Install\n\nStep one.\n\nStep two.\n\nStep three.\n")
    world.write("guides/upgrade.md", "# Upgrade\n\nUpgrade notes.\n")


def pushed(world: World) -> Run:
    run = world.push()
    assert run.code == 0, run
    return run


def assert_nothing_to_do(world: World, command: Callable[[], Run]) -> None:
    """Run again: no action planned, no request that writes."""
    world.reset_stats()
    again = command()
    assert again.code == 0 and again.actions() == [], again
    assert world.stats()["writes"] == 0, writes(world.stats())


def replace_text(old: str, new: str) -> Callable[[str], str]:
    def change(body: str) -> str:
        assert old in body, body
        return body.replace(old, new)

    return change


# -- 1. the first push -------------------------------------------------------------------------------


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
    expected = {
        "Introduction": world.home_id, "Guides": world.home_id, "API Reference": world.home_id,
        "Operations": world.home_id, "misc": world.home_id,
        "Installing mdsync": pages["Guides"]["id"], "auth": pages["API Reference"]["id"],
        "Runbook": pages["Operations"]["id"], "Notes": pages["misc"]["id"],
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


# -- 2. no write without a change -----------------------------------------------------------------------


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
        ("new_file", "Remote Page.md")}
    assert "Welcome, edited here." in world.body(world.page_id("intro.md"))
    assert "Answers from Confluence." in world.read("faq.md")
    pages = world.by_title()
    assert str(pages["New Guide"]["parentId"]) == world.page_id("guides/README.md")
    assert "made in Confluence" in world.read("Remote Page.md")
    world.reset_stats()
    run = world.sync()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


# -- 3. a one-file edit -------------------------------------------------------------------------------------


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


# -- 4. push never overwrites a Confluence edit ----------------------------------------------------------


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


# -- 5. pull -----------------------------------------------------------------------------------------------


STYLED = """---
title: Style Guide
labels: [style]
owner: docs-team   # kept as written
---

Intro paragraph stays.

* first bullet
* second bullet

| Name | Value |
|:-----|------:|
| a    | 1     |

Second paragraph to change.

Closing   words.
"""


def test_pull_fetches_only_changed_pages_and_changes_only_the_edited_line(world: World) -> None:
    small_tree(world)
    world.write("style.md", STYLED)
    pushed(world)
    page_id = world.page_id("style.md")
    world.edit(page_id, replace_text("Second paragraph to change.", "Second paragraph, changed in Confluence."))
    others = world.snapshot()
    world.reset_stats()
    run = world.pull()
    assert run.code == 0, run
    assert run.paths("pull") == {"style.md"}
    page_reads = [entry["path"] for entry in world.stats()["log"]
                  if entry["method"] == "GET" and "body-format=storage" in entry["query"]]
    assert page_reads == [f"{V2}/pages/{page_id}"]
    assert world.stats()["writes"] == 0
    expected = STYLED.replace("Second paragraph to change.", "Second paragraph, changed in Confluence.")
    assert world.read("style.md") == expected
    after = world.snapshot()
    changed = {path for path in after if after[path] != others.get(path)} - {path for path in after
                                                                              if path.startswith(".mdsync/")}
    assert changed == {"docs/style.md"}


def test_pull_turns_new_confluence_pages_into_files_with_safe_names(world: World) -> None:
    small_tree(world)
    pushed(world)
    hostile = 'a/b: "c"?*'
    unicode_title = "Über Café — 日本語"
    world.create(hostile, "<p>hostile body</p>", world.home_id)
    world.create(unicode_title, "<p>unicode body</p>", world.home_id)
    world.create("Troubleshooting", "<p>when it breaks</p>", world.page_id("guides/README.md"))
    clash = world.create("Intro", "<p>clashes with intro.md</p>", world.home_id)["id"]
    world.create("../escape", "<p>climbing</p>", world.home_id)
    world.create("CON", "<p>reserved on Windows</p>", world.home_id)
    run = world.pull()
    assert run.code == 0, run
    new = run.actions("new_file")
    assert len(new) == 6, run.report
    made = {action["path"] for action in new}
    for path in made:
        name = path.rsplit("/", 1)[-1]
        assert not FORBIDDEN_IN_NAMES & set(name), path
        assert (world.docs / path).resolve().is_relative_to(world.docs.resolve())
        assert world.exists(path)
    assert "guides/Troubleshooting.md" in made
    assert f"Intro-{clash}.md" in made and world.read("intro.md").startswith("# Introduction")
    assert "CON.md" not in made and all(".." not in path for path in made)
    assert unicodedata.normalize("NFC", f"{unicode_title}.md") in made
    hostile_file = next(path for path in made if "hostile body" in world.read(path))
    assert "/" not in hostile_file and hostile_file.endswith(".md")
    assert "unicode body" in world.read(unicodedata.normalize("NFC", f"{unicode_title}.md"))
    assert "when it breaks" in world.read("guides/Troubleshooting.md")
    # The new files are in step: nothing to push, no page renamed.
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0
    assert {hostile, unicode_title, "Troubleshooting", "Intro", "../escape", "CON"} <= set(world.by_title())


def test_pull_moves_the_file_of_a_page_moved_in_confluence(world: World) -> None:
    small_tree(world)
    world.write("api/index.md", "# API\n\nThe API.\n")
    pushed(world)
    page_id = world.page_id("guides/upgrade.md")
    text = world.read("guides/upgrade.md")
    world.edit(page_id, parent=world.page_id("api/index.md"))
    run = world.pull()
    assert run.code == 0, run
    assert not world.exists("guides/upgrade.md")
    assert world.read("api/upgrade.md") == text
    assert world.page_id("api/upgrade.md") == page_id and "guides/upgrade.md" not in world.state()
    assert_nothing_to_do(world, world.push)


def test_a_page_with_children_moved_in_confluence_takes_its_folder_along(world: World) -> None:
    small_tree(world)
    world.write("guides/install.assets/shot.png", b"png bytes")
    world.write("guides/install.md", "# Install\n\nStep one.\n\n![shot](install.assets/shot.png)\n")
    pushed(world)
    ids = {path: world.page_id(path) for path in ("guides/README.md", "guides/install.md", "guides/upgrade.md")}
    texts = {path: world.read(path) for path in ids}
    world.edit(ids["guides/README.md"], parent=world.page_id("faq.md"))
    run = world.sync()
    assert run.code == 0, run
    assert run.paths("move_folder") == {"guides/"}
    assert not world.exists("guides/README.md") and not (world.docs / "guides").exists()
    for path, page_id in ids.items():
        moved = "faq/" + path
        assert world.read(moved) == texts[path]
        assert world.page_id(moved) == page_id
    assert (world.docs / "faq/guides/install.assets/shot.png").read_bytes() == b"png bytes"
    assert str(world.page(ids["guides/README.md"])["parentId"]) == world.page_id("faq.md")
    assert_nothing_to_do(world, world.push)
    assert str(world.page(ids["guides/README.md"])["parentId"]) == world.page_id("faq.md")


def test_a_folder_page_move_its_files_cannot_follow_is_reported_not_undone(world: World) -> None:
    small_tree(world)
    world.write("faq/guides.md", "# Guide notes\n\nIn the way.\n")
    pushed(world)
    guides = world.page_id("guides/README.md")
    world.edit(guides, parent=world.page_id("faq.md"))
    run = world.sync()
    assert run.code == 3, run
    assert run.paths("conflict") == {"guides/README.md"}
    assert "cannot follow" in run.actions("conflict")[0]["message"]
    assert world.exists("guides/README.md") and world.read("faq/guides.md") == "# Guide notes\n\nIn the way.\n"
    push = world.push()
    assert push.code == 0, push
    assert str(world.page(guides)["parentId"]) == world.page_id("faq.md"), "a push moved the page back"


def test_pull_removes_the_unchanged_file_of_a_trashed_page_but_keeps_a_changed_one(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.trash(world.page_id("faq.md"))
    world.trash(world.page_id("guides/upgrade.md"))
    world.write("guides/upgrade.md", "# Upgrade\n\nUpgrade notes, edited here.\n")
    run = world.pull()
    assert run.code == 3, run
    assert run.paths("remove_file") == {"faq.md"}
    assert run.paths("conflict") == {"guides/upgrade.md"}
    assert not world.exists("faq.md")
    assert world.read("guides/upgrade.md") == "# Upgrade\n\nUpgrade notes, edited here.\n"


def test_pull_never_overwrites_a_locally_changed_file(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("intro.md")
    world.edit(page_id, replace_text("Second paragraph.", "Second paragraph from Confluence."))
    mine = "# Introduction\n\nWelcome to the docs, edited here.\n\nSecond paragraph.\n"
    world.write("intro.md", mine)
    run = world.pull()
    assert run.code == 3, run
    assert run.paths("conflict") == {"intro.md"}
    assert world.read("intro.md") == mine
    assert world.version(page_id) == 2


def test_pull_of_pages_retitled_in_confluence_keeps_file_and_pushes_nothing(world: World) -> None:
    small_tree(world)
    world.write("auth.md", "Tokens.\n")  # titled after its file name
    world.write("titled.md", "---\ntitle: Front Title\n---\nBody.\n")
    pushed(world)
    for path, title in (("guides/install.md", "Installation"), ("auth.md", "Authentication"),
                        ("titled.md", "Front Title Renamed")):
        world.edit(world.page_id(path), title=title)
    run = world.pull()
    assert run.code == 0, run
    assert run.paths("pull") == {"guides/install.md", "auth.md", "titled.md"}
    assert world.read("guides/install.md").startswith("# Installation\n")
    assert "Front Title Renamed" in world.read("titled.md")
    assert world.exists("auth.md") and world.exists("guides/install.md")
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0
    assert {"Installation", "Authentication", "Front Title Renamed"} <= set(world.by_title())


def test_pull_of_pages_added_under_a_leaf_page_and_a_folder_page(world: World) -> None:
    small_tree(world)
    world.write("misc/notes.md", "# Notes\n\nLoose.\n")
    pushed(world)
    world.create("FAQ Details", "<p>details</p>", world.page_id("faq.md"))
    world.create("More Notes", "<p>more</p>", world.page_id("misc/"))
    run = world.pull()
    assert run.code == 0, run
    assert run.paths("new_file") == {"faq/FAQ Details.md", "misc/More Notes.md"}
    assert "details" in world.read("faq/FAQ Details.md") and "more" in world.read("misc/More Notes.md")
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


# -- 6. sync: both sides changed -----------------------------------------------------------------------------


def both_sides(world: World, local_old: str, local_new: str, remote_old: str, remote_new: str) -> str:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/install.md")
    world.edit(page_id, replace_text(remote_old, remote_new))
    world.write("guides/install.md", world.read("guides/install.md").replace(local_old, local_new))
    return page_id


def test_sync_stop_keeps_the_file_and_writes_the_remote_copy(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    mine = world.read("guides/install.md")
    run = world.sync()
    assert run.code == 3, run
    assert run.paths("conflict") == {"guides/install.md"}
    assert world.read("guides/install.md") == mine
    copy = world.read("guides/install.remote.md")
    assert "Step three, there." in copy and "Step one, here." not in copy
    assert world.version(page_id) == 2 and "Step one, here." not in world.body(page_id)


def test_sync_merge_of_edits_in_different_places_pushes_both(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    run = world.sync("--on-conflict", "merge")
    assert run.code == 0, run
    assert run.paths("merge") == {"guides/install.md"}
    text = world.read("guides/install.md")
    assert "Step one, here." in text and "Step three, there." in text and "<<<<<<<" not in text
    body = world.body(page_id)
    assert "Step one, here." in body and "Step three, there." in body
    assert world.version(page_id) == 3
    world.reset_stats()
    run = world.sync()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


def test_sync_merge_of_the_same_line_leaves_markers_then_pushes_once_settled(world: World) -> None:
    page_id = both_sides(world, "Step two.", "Step two, my way.", "Step two.", "Step two, their way.")
    run = world.sync("--on-conflict", "merge")
    assert run.code == 3, run
    text = world.read("guides/install.md")
    assert "<<<<<<<" in text and ">>>>>>>" in text
    assert "Step two, my way." in text and "Step two, their way." in text
    assert world.version(page_id) == 2 and "my way" not in world.body(page_id)
    # A push before settling refuses to publish the markers.
    run = world.push()
    assert run.code != 0 and world.version(page_id) == 2, run
    settled = "# Install\n\nStep one.\n\nStep two, both ways.\n\nStep three.\n"
    world.write("guides/install.md", settled)
    run = world.sync()
    assert run.code == 0, run
    body = world.body(page_id)
    assert "Step two, both ways." in body and "<<<<<<<" not in body and "their way" not in body
    assert world.version(page_id) == 3
    assert world.read("guides/install.md") == settled


def test_sync_on_conflict_local_and_remote(world: World) -> None:
    page_id = both_sides(world, "Step one.", "Step one, here.", "Step three.", "Step three, there.")
    mine = world.read("guides/install.md")
    run = world.sync("--on-conflict", "local")
    assert run.code == 0, run
    body = world.body(page_id)
    assert "Step one, here." in body and "there" not in body
    assert world.read("guides/install.md") == mine

    other = world.page_id("guides/upgrade.md")
    world.edit(other, replace_text("Upgrade notes.", "Upgrade notes from Confluence."))
    world.write("guides/upgrade.md", "# Upgrade\n\nUpgrade notes from here.\n")
    run = world.sync("--on-conflict", "remote")
    assert run.code == 0, run
    assert "Upgrade notes from Confluence." in world.read("guides/upgrade.md")
    assert "from here" not in world.read("guides/upgrade.md")
    assert world.version(other) == 2
    assert_nothing_to_do(world, world.sync)


# -- 7. renames and moves -----------------------------------------------------------------------------------


def test_renamed_file_keeps_its_page(world: World) -> None:
    small_tree(world)
    world.write("notes-page.md", "Loose notes without a heading.\n")
    pushed(world)
    intro, notes = world.page_id("intro.md"), world.page_id("notes-page.md")
    count = len(world.pages())
    os.rename(world.docs / "intro.md", world.docs / "welcome.md")
    os.rename(world.docs / "notes-page.md", world.docs / "jottings.md")  # the title is the file name
    run = world.push()
    assert run.code == 0, run
    assert world.page_id("welcome.md") == intro and world.page_id("jottings.md") == notes
    assert world.page(intro)["title"] == "Introduction" and world.version(intro) == 1
    assert world.page(notes)["title"] == "jottings" and world.versions(notes) == [1, 2]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0
    assert_nothing_to_do(world, world.push)


def test_file_moved_to_another_folder_moves_its_page(world: World) -> None:
    small_tree(world)
    world.write("api/index.md", "# API\n\nThe API.\n")
    pushed(world)
    page_id = world.page_id("guides/upgrade.md")
    count = len(world.pages())
    (world.docs / "api" / "upgrade.md").write_bytes((world.docs / "guides" / "upgrade.md").read_bytes())
    (world.docs / "guides" / "upgrade.md").unlink()
    run = world.push()
    assert run.code == 0, run
    page = world.page(page_id)
    assert page["status"] == "current" and str(page["parentId"]) == world.page_id("api/index.md")
    assert world.versions(page_id) == [1, 2]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0
    assert world.page_id("api/upgrade.md") == page_id


def test_renamed_folder_keeps_its_pages(world: World) -> None:
    small_tree(world)
    pushed(world)
    ids = {path: world.page_id(path) for path in ("guides/README.md", "guides/install.md", "guides/upgrade.md")}
    count = len(world.pages())
    os.rename(world.docs / "guides", world.docs / "tutorials")
    run = world.push()
    assert run.code == 0, run
    for path, page_id in ids.items():
        assert world.page_id(path.replace("guides/", "tutorials/")) == page_id
        assert world.page(page_id)["status"] == "current" and world.version(page_id) == 1
    assert str(world.page(ids["guides/install.md"])["parentId"]) == ids["guides/README.md"]
    assert len(world.pages()) == count


def test_moved_file_whose_page_changed_in_confluence_is_a_conflict_beside_the_file(world: World) -> None:
    small_tree(world)
    world.write("api/index.md", "# API\n\nThe API.\n")
    pushed(world)
    page_id = world.page_id("guides/upgrade.md")
    os.rename(world.docs / "guides" / "upgrade.md", world.docs / "api" / "upgrade.md")
    world.edit(page_id, replace_text("Upgrade notes.", "Upgrade notes from Confluence."))
    run = world.sync()
    assert run.code == 3, run
    assert world.read("api/upgrade.md") == "# Upgrade\n\nUpgrade notes.\n"
    assert str(world.page(page_id)["parentId"]) == world.page_id("guides/README.md") and world.version(page_id) == 2
    copies = sorted(path for path in world.doc_files() if path.endswith(".remote.md"))
    assert copies == ["api/upgrade.remote.md"], f"Confluence's version was written to {copies}"


def test_file_naming_its_page_id_is_matched_through_rename_and_edit(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/install.md")
    count = len(world.pages())
    (world.docs / "guides" / "install.md").unlink()
    world.write("setup.md", f"---\npage_id: '{page_id}'\n---\n# Setting up\n\nAll new text.\n")
    run = world.push()
    assert run.code == 0, run
    page = world.page(page_id)
    assert page["title"] == "Setting up" and str(page["parentId"]) == world.home_id
    assert "All new text." in page["body"]["storage"]["value"]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0
    assert world.page_id("setup.md") == page_id


def test_file_renamed_and_edited_at_once_keeps_its_page_by_title(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/install.md")
    count = len(world.pages())
    (world.docs / "guides" / "install.md").unlink()
    world.write("guides/installing.md", "# Install\n\nStep one, rewritten.\n")
    run = world.push()
    assert run.code == 0, run
    assert world.page_id("guides/installing.md") == page_id
    assert "rewritten" in world.body(page_id) and world.versions(page_id) == [1, 2]
    assert len(world.pages()) == count and len(world.pages("trashed")) == 0


def test_deleting_a_folders_index_file_keeps_its_page_as_it_is(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("guides/README.md")
    count = len(world.pages())
    (world.docs / "guides" / "README.md").unlink()
    run = world.push()
    assert run.code == 0, run
    assert not run.report["problems"]
    assert world.page_id("guides/") == page_id
    page = world.page(page_id)
    assert page["title"] == "Guides" and "All the guides." in page["body"]["storage"]["value"]
    assert world.version(page_id) == 1 and len(world.pages()) == count
    assert str(world.page(world.page_id("guides/install.md"))["parentId"]) == page_id
    assert_nothing_to_do(world, world.push)


def test_the_same_edit_on_both_sides_is_not_a_conflict(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("faq.md")
    world.write("faq.md", "# FAQ\n\nQuestions and answers, and more.\n")
    world.edit(page_id, replace_text("Questions and answers.", "Questions and answers, and more."))
    run = world.sync()
    assert run.code == 0, run
    assert run.paths("agree") == {"faq.md"}
    assert not [path for path in world.doc_files() if path.endswith(".remote.md")]
    assert world.version(page_id) == 2  # nothing pushed: both sides already say the same
    assert_nothing_to_do(world, world.sync)


# -- 8. deletes ------------------------------------------------------------------------------------------------


def test_deleted_file_keeps_its_page_unless_asked_to_trash_it(world: World) -> None:
    small_tree(world)
    pushed(world)
    page_id = world.page_id("faq.md")
    (world.docs / "faq.md").unlink()
    run = world.push()
    assert run.code == 0, run
    assert run.paths("keep") == {"faq.md"}
    assert world.page(page_id)["status"] == "current"
    run = world.push("--delete")
    assert run.code == 0, run
    assert run.paths("trash") == {"faq.md"}
    page = world.api.get(f"{V2}/pages/{page_id}", params={"status": "trashed"})
    assert page.status_code == 200 and page.json()["status"] == "trashed"  # in the trash, not purged
    assert "faq.md" not in world.state()

    # sync.delete: trash in mdsync.yaml does the same for sync.
    world.configure("  delete: trash\n  max_delete: 50%\n")
    intro = world.page_id("intro.md")
    (world.docs / "intro.md").unlink()
    run = world.sync()
    assert run.code == 0, run
    assert run.paths("trash") == {"intro.md"}
    assert world.api.get(f"{V2}/pages/{intro}", params={"status": "trashed"}).json()["status"] == "trashed"
    assert {page["id"] for page in world.pages("trashed")} == {page_id, intro}


def test_trashing_more_than_max_delete_stops_and_changes_nothing(world: World) -> None:
    small_tree(world)
    world.configure("  max_delete: 1\n")
    pushed(world)
    (world.docs / "intro.md").unlink()
    (world.docs / "faq.md").unlink()
    world.write("guides/install.md", "# Install\n\nChanged too.\n")
    before = world.snapshot()
    world.reset_stats()
    run = world.push("--delete")
    assert run.code == 1, run
    assert any("max_delete" in problem for problem in run.report["problems"]), run.report
    assert world.stats()["writes"] == 0
    assert world.snapshot() == before
    assert len(world.pages()) == 6 and len(world.pages("trashed")) == 0


# -- 9. titles --------------------------------------------------------------------------------------------------


def test_two_files_with_one_title_stop_the_run(world: World) -> None:
    world.write("one.md", "# Same Title\n\nfirst\n")
    world.write("sub/two.md", "---\ntitle: same title\n---\nsecond\n")
    world.write("other.md", "# Other\n\nfine\n")
    world.reset_stats()
    run = world.push()
    assert run.code == 1, run
    problems = " ".join(run.report["problems"])
    assert "one.md" in problems and "sub/two.md" in problems
    assert world.stats()["writes"] == 0 and len(world.pages()) == 1


def test_title_used_outside_the_tree_stops_the_run(world: World) -> None:
    world.create("Taken", "<p>someone else's</p>", root_level=True)
    world.write("mine.md", "# Taken\n\nmine\n")
    world.write("other.md", "# Other\n\nfine\n")
    world.reset_stats()
    run = world.push()
    assert run.code == 1, run
    assert any("mine.md" in problem and "Taken" in problem for problem in run.report["problems"])
    assert world.stats()["writes"] == 0 and set(world.by_title()) == {"DOCS Home", "Taken"}


def test_a_new_file_takes_over_a_page_of_its_title_only_if_that_page_holds_the_file(world: World) -> None:
    theirs = world.create("Setup", "<p>A colleague's own notes.</p>", world.home_id)
    world.write("setup.md", "# Setup\n\nMine.\n")
    world.write("faq.md", "# FAQ\n\nQuestions.\n")
    run = world.push()
    assert run.code == 1, run
    [failed] = run.actions("adopt")
    assert failed["path"] == "setup.md" and failed["status"] == "failed"
    assert "was not made from this file" in failed["message"] and "--resync" in failed["message"]
    assert world.body(theirs["id"]) == "<p>A colleague's own notes.</p>" and world.version(theirs["id"]) == 1
    assert "setup.md" not in world.state() and "faq.md" in world.state()
    # The page as this file would make it (an earlier run's create never recorded): adopted, not made twice.
    world.edit(theirs["id"], lambda body: "<p>Mine.</p>")
    count = len(world.pages())
    run = world.push()
    assert run.code == 0, run
    assert run.paths("adopt") == {"setup.md"} and world.page_id("setup.md") == str(theirs["id"])
    assert len(world.pages()) == count
    assert_nothing_to_do(world, world.push)


# -- 10. status and --check ----------------------------------------------------------------------------------------


def out_of_step_world(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("intro.md", "# Introduction\n\nChanged here.\n")  # changed here
    world.edit(world.page_id("faq.md"), replace_text("Questions", "Many questions"))  # changed in Confluence
    world.write("guides/install.md", "# Install\n\nMine.\n")  # both
    world.edit(world.page_id("guides/install.md"), replace_text("Step one.", "Theirs."))
    world.write("brand-new.md", "# Brand New\n\nnew\n")  # new
    (world.docs / "guides" / "upgrade.md").unlink()  # deleted


def test_status_names_every_kind_of_difference_and_writes_nothing(world: World) -> None:
    out_of_step_world(world)
    before = world.snapshot()
    world.reset_stats()
    run = world.run("status", "--json")
    assert run.code == 0, run
    kinds = {action["path"]: action["action"] for action in run.actions()}
    assert kinds == {"intro.md": "update", "faq.md": "pull", "guides/install.md": "conflict",
                     "brand-new.md": "create", "guides/upgrade.md": "keep"}
    assert run.report["counts"].get("noop") == 1  # guides/README.md is in step
    text = world.run("status")
    assert text.code == 0, text
    assert "1 in step" in text.stdout
    rows = {line.split()[0]: line for line in text.stdout.splitlines() if line.split() and line.split()[0] in kinds}
    assert set(rows) == set(kinds), text.stdout
    described = {"intro.md": "changed here", "faq.md": "changed in Confluence",
                 "guides/install.md": "changed here and in Confluence", "brand-new.md": "new",
                 "guides/upgrade.md": "deleted"}
    wrong = {path: rows[path] for path, words in described.items() if words not in rows[path][len(path):]}
    assert not wrong, "status does not say what state these files are in:\n" + "\n".join(wrong.values())
    assert world.stats()["writes"] == 0 and world.snapshot() == before


@pytest.mark.parametrize("policy", ["local", "remote", "merge", "stop"])
def test_status_says_changed_on_both_sides_whatever_the_conflict_policy(world: World, policy: str) -> None:
    small_tree(world)
    pushed(world)
    world.configure(sync=f"  max_delete: 50%\n  on_conflict: {policy}\n")
    world.write("intro.md", "# Introduction\n\nWelcome, edited here.\n\nSecond paragraph.\n")
    world.edit(world.page_id("intro.md"), replace_text("Second paragraph.", "Second paragraph, edited there."))
    run = world.run("status", "--json")
    assert run.code == 0, run
    states = {action["path"]: action["state"] for action in run.actions()}
    assert states == {"intro.md": "changed here and in Confluence"}


def test_check_exits_4_out_of_step_and_0_in_step(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.reset_stats()
    for args in (("status", "--check"), ("sync", "--check")):
        run = world.run(*args)
        assert run.code == 0, run
    world.write("faq.md", "# FAQ\n\nChanged.\n")
    world.edit(world.page_id("intro.md"), replace_text("Welcome", "Hello"))
    before = world.snapshot()
    world.reset_stats()
    run = world.run("status", "--check")
    assert run.code == 4, run
    run = world.run("sync", "--check", "--json")
    assert run.code == 4, run
    assert {(a["action"], a["path"]) for a in run.actions()} == {("update", "faq.md"), ("pull", "intro.md")}
    assert world.stats()["writes"] == 0 and world.snapshot() == before
    assert world.version(world.page_id("faq.md")) == 1


# -- 11. dry runs ------------------------------------------------------------------------------------------------


def test_dry_run_on_push_pull_and_sync_writes_nothing_and_shows_the_plan(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("guides/install.md", "# Install\n\nStep one.\n\nStep two, edited.\n\nStep three.\n")
    world.write("added.md", "# Added\n\nnew\n")
    remote = world.page_id("faq.md")
    world.edit(remote, replace_text("Questions and answers.", "Answers only."))
    before = world.snapshot()
    world.reset_stats()
    for args in (("push",), ("pull",), ("sync",)):
        run = world.run(*args, "--dry-run", "--json")
        assert run.code == 0, (args, run)
        assert run.report["dry_run"] is True
        assert all(action["status"] == "planned" for action in run.actions()), run.report
        if args[0] != "pull":
            update = next(a for a in run.actions() if a["path"] == "guides/install.md")
            assert update["action"] == "update"
            assert "-Step two." in update["diff"] and "+Step two, edited." in update["diff"]
            assert "added.md" in run.paths("create")
        if args[0] != "push":
            pull = next(a for a in run.actions() if a["path"] == "faq.md")
            assert pull["action"] == "pull" and "+Answers only." in pull["diff"], pull
    assert world.stats()["writes"] == 0
    assert world.snapshot() == before
    assert world.version(remote) == 2 and world.version(world.page_id("guides/install.md")) == 1


def test_first_dry_run_leaves_the_folder_as_it_was(world: World) -> None:
    small_tree(world)
    before = world.snapshot()
    run = world.push("--dry-run")
    assert run.code == 0 and len(run.actions("create")) == 5, run
    assert world.stats()["writes"] == 0 and len(world.pages()) == 1
    assert world.snapshot() == before, "a dry run wrote " + ", ".join(sorted(set(world.snapshot()) - set(before)))


# -- 12. --json on every command ------------------------------------------------------------------------------------


def test_json_report_on_every_command(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("faq.md", "# FAQ\n\nout of step\n")
    world.edit(world.page_id("intro.md"), replace_text("Welcome", "Hello"))
    expected = [(("status",), 0), (("status", "--check"), 4), (("push", "--dry-run"), 0), (("pull",), 0),
                (("push",), 0), (("sync",), 0)]
    mismatched = []
    for args, code in expected:
        run = world.run(*args, "--json")
        assert isinstance(run.report, dict), args
        assert {"mode", "exit_code", "counts", "actions"} <= set(run.report), args
        assert run.code == code, (args, run)
        assert run.report["mode"] in ("push", "pull", "sync", "status"), args
        assert isinstance(run.report["counts"], dict) and isinstance(run.report["actions"], list)
        assert sum(run.report["counts"].values()) >= len(run.report["actions"])
        for action in run.report["actions"]:
            assert {"action", "path", "status"} <= set(action), (args, action)
        if args[0] != "sync":
            assert run.report["actions"], (args, run.report)
        if run.report["exit_code"] != run.code:
            mismatched.append((args, run.report["exit_code"], run.code))
    assert not mismatched, f"the JSON exit_code differs from the exit status: {mismatched}"


def test_an_error_still_prints_one_json_document(world: World) -> None:
    small_tree(world)
    world.configure(sync="  max_delete: 50%\n  concurrency: 0\n")
    run = world.run("push", "--json")
    assert run.code == 2, run
    assert run.report is not None and run.report["exit_code"] == 2 and "concurrency" in run.report["error"]
    world.configure()
    world.api.put("/_sandbox/faults", json={"unavailable_share": 1.0}).raise_for_status()
    down = world.run("status", "--json", timeout=120)
    assert down.code == 1, down
    assert down.report is not None and down.report["exit_code"] == 1 and down.report["error"]


def test_oauth_runs_discover_the_cloud_id_once_and_keep_it_in_the_state(world: World) -> None:
    small_tree(world)
    (world.root / "mdsync.yaml").write_text(
        f"confluence:\n  url: {world.url}\n  auth: bearer\n  token: {DEFAULT_TOKEN}\n  gateway: {world.url}\n"
        "space: DOCS\ndocs: docs\nsync:\n  max_delete: 50%\n", encoding="utf-8")
    world.reset_stats()
    assert pushed(world).report["counts"] == {"create": 5}
    discovery = [entry["path"] for entry in world.stats()["log"] if entry["path"].endswith("tenant_info")]
    assert len(discovery) == 1
    cloud_id = json.loads((world.root / ".mdsync" / "state.json").read_text())["site"]["cloud_id"]
    assert cloud_id == world.server.sandbox.store.cloud_id
    assert all(entry["gateway"] == "atlassian" for entry in world.stats()["log"][1:])
    world.write("faq.md", "# FAQ\n\nChanged.\n")
    world.reset_stats()
    assert pushed(world).report["counts"] == {"update": 1, "noop": 4}
    assert not [entry for entry in world.stats()["log"] if "tenant_info" in entry["path"]]
    assert DEFAULT_TOKEN not in (world.root / ".mdsync" / "state.json").read_text()


# -- 13. --resync ---------------------------------------------------------------------------------------------------


def test_resync_rebuilds_the_state_and_reports_differences_as_conflicts(world: World) -> None:
    small_tree(world)
    world.write("misc/loose.md", "# Loose\n\nIn a folder with no page of its own.\n")
    pushed(world)
    count = len(world.pages())
    shutil.rmtree(world.root / ".mdsync")
    world.write("faq.md", "# FAQ\n\nDiffers from its page.\n")
    faq = [page for page in world.pages() if page["title"] == "FAQ"][0]["id"]
    run = world.sync("--resync")
    assert run.code == 3, run
    assert run.paths("conflict") == {"faq.md"}
    assert world.read("faq.md") == "# FAQ\n\nDiffers from its page.\n"
    assert world.version(faq) == 1 and "Differs" not in world.body(faq)
    assert "Questions and answers." in world.read("faq.remote.md")
    assert len(world.pages()) == count
    assert set(world.state()) >= {"intro.md", "guides/README.md", "guides/install.md", "misc/", "misc/loose.md"}
    world.write("faq.md", "# FAQ\n\nQuestions and answers.\n")  # now agrees with its page
    (world.docs / "faq.remote.md").unlink()
    world.reset_stats()
    run = world.sync("--resync")
    assert run.code == 0, run
    run = world.sync()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


# -- 14. the lock -----------------------------------------------------------------------------------------------------


def test_live_lock_stops_the_run_and_a_dead_one_is_taken_over(world: World) -> None:
    small_tree(world)
    lock = world.root / ".mdsync" / "lock"
    lock.parent.mkdir()
    lock.write_text(f"{os.getpid()}@{socket.gethostname()}", encoding="utf-8")
    run = world.run("push")
    assert run.code == 1, run
    assert str(os.getpid()) in run.stderr and "lock" in run.stderr, run.stderr
    assert len(world.pages()) == 1 and lock.exists()

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(f"{dead.pid}@{socket.gethostname()}", encoding="utf-8")
    run = world.push()
    assert run.code == 0, run
    assert len(world.pages()) == 6 and not lock.exists()


# -- 15. crash safety --------------------------------------------------------------------------------------------------


def big_tree(world: World) -> list[str]:
    files = []
    for folder in ("alpha", "beta", "gamma"):
        world.write(f"{folder}/index.md", f"# {folder.title()}\n\nThe {folder} section.\n")
        files.append(f"{folder}/index.md")
        for number in range(3):
            path = f"{folder}/page-{number}.md"
            world.write(path, f"---\nlabels: [{folder}]\n---\n# {folder.title()} {number}\n\nBody {number}.\n")
            files.append(path)
    for number in range(3):
        world.write(f"top-{number}.md", f"# Top {number}\n\nTop body.\n")
        files.append(f"top-{number}.md")
    return files


def converged(world: World, files: list[str]) -> None:
    pages = world.pages()
    titles = [page["title"] for page in pages]
    assert len(titles) == len(set(titles)), f"duplicate pages: {sorted(titles)}"
    state = world.state()
    ids = {page["id"] for page in pages}
    for path in files:
        assert path in state and str(state[path]["page_id"]) in ids, path
    assert len(pages) == len(files) + 1
    world.reset_stats()
    run = world.push()
    assert run.code == 0 and run.actions() == [], run.report
    assert world.stats()["writes"] == 0


def test_push_killed_part_way_converges_without_duplicates(world: World) -> None:
    files = big_tree(world)
    world.faults(latency_ms=200)
    process = world.popen("push")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(entry["method"] == "POST" and entry["status"] == 200 for entry in world.stats()["log"]):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the push never created a page")
        time.sleep(0.3)  # let more creates be in flight
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    created = len(world.pages()) - 1
    assert 0 < created < len(files), "the kill should land part-way"
    world.faults(latency_ms=0)
    run = world.push()
    assert run.code == 0, run
    converged(world, files)


def test_push_killed_during_updates_converges_without_conflicts(world: World) -> None:
    files = big_tree(world)
    pushed(world)
    for path in files:
        text = world.read(path).replace("Body", "Edited body")
        world.write(path, text.replace("labels: [", "labels: [extra, "))  # a label write follows each update
    world.faults(latency_ms=200)
    world.reset_stats()
    process = world.popen("push")
    try:
        deadline = time.monotonic() + 20
        while not any(entry["method"] == "PUT" and entry["status"] == 200 for entry in world.stats()["log"]):
            assert time.monotonic() < deadline, "the push never updated a page"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    world.faults(latency_ms=0)
    state = world.state()
    landed = [path for path in files if world.version(state[path]["page_id"]) == 2 and state[path]["version"] == 1]
    assert landed, "the kill should land between a page update and its record"
    run = world.push()
    assert run.code == 0 and not run.actions("conflict"), \
        f"pages mdsync itself updated before the kill came back as conflicts: {sorted(run.paths('conflict'))}"
    for path in files:
        if "Edited body" in world.read(path):
            assert "Edited body" in world.body(world.page_id(path)), path
    assert not [path for path in world.doc_files() if path.endswith(".remote.md")]
    converged(world, files)


def test_push_with_lost_responses_creates_no_duplicates(world: World) -> None:
    world.configure("  concurrency: 1\n")  # one request at a time: the seeded faults hit the same requests
    files = [f"doc-{number}.md" for number in range(3)]
    for number, path in enumerate(files):
        world.write(path, f"# Document {number}\n\nBody {number}.\n")
    world.faults(lost_response_share=0.5, seed=3)
    run = world.push()
    world.faults(lost_response_share=0)
    log = world.stats()["log"]
    # A create whose answer was lost is followed by a look-up of its title: the case under test happened.
    assert any("title=" in entry["query"] for entry in log), log
    titles = [page["title"] for page in world.pages()]
    assert len(titles) == len(set(titles)), f"duplicates after a push with lost answers: {titles}"
    if run.code != 0:
        run = world.push()
    assert run.code == 0, run
    converged(world, files)


# -- 16. blog posts ----------------------------------------------------------------------------------------------------


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
