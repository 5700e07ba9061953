"""The world an end-to-end test works in: a sandbox on a free loopback port, a project folder
with an ``mdsync.yaml`` and a ``docs/`` tree, the real CLI (``python -m mdsync``) run as a
subprocess with its ``--json`` report read back, and a colleague's REST client that edits
pages in Confluence (through the sandbox's Cloud editor) and shows what the commands left.
The sandbox's ``/_sandbox/stats`` counters tell how many requests (and writes) a command sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
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
    """One sandbox, one project folder, and a colleague's REST client (in space ``space``: a
    module's worlds can share one sandbox, a space each)."""

    def __init__(self, root: Path, server: BackgroundServer, space: str = "DOCS") -> None:
        self.root = root
        self.space_key = space
        self.docs = root / "docs"
        self.docs.mkdir()
        self.server = server
        self.url = server.url
        self.api = httpx.Client(base_url=self.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=20)
        found = self.api.get(f"{V2}/spaces", params={"keys": space}).json()["results"][0]
        self.space_id = str(found["id"])
        self.home_id = str(found["homepageId"])
        self.configure()

    def close(self) -> None:
        self.api.close()

    # -- the project folder --

    def configure(self, sync: str = "  max_delete: 50%\n", folders: str | None = None,
                  filenames: str | None = None) -> None:
        (self.root / "mdsync.yaml").write_text(
            "confluence:\n"
            f"  url: {self.url}\n"
            "  auth: token\n"
            f"  email: {DEFAULT_EMAIL}\n"
            f"  token: {DEFAULT_TOKEN}\n"
            f"space: {self.space_key}\n"
            "docs: docs\n"
            + (f"folders: {folders}\n" if folders else "")
            + (f"sync:\n{sync}" if sync else "")
            + (f"pull:\n  filenames: {filenames}\n" if filenames else ""),
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

    def children(self, parent_id: str, kind: str = "pages") -> list[str]:
        """The titles right under a page or folder, in Confluence's order."""
        response = self.api.get(f"{V2}/{kind}/{parent_id}/direct-children", params={"sort": "child-position"})
        assert response.status_code == 200, response.text
        return [row["title"] for row in response.json()["results"]]

    def reorder(self, page_id: str, where: str, target_id: str) -> None:
        """A colleague drags a page before or after a sibling (or into a page: append)."""
        moved = self.api.put(f"/wiki/rest/api/content/{page_id}/move/{where}/{target_id}")
        assert moved.status_code == 200, moved.text

    def create_folder(self, title: str, parent: str | None = None) -> dict[str, Any]:
        """A colleague makes a folder in the page tree (Cloud's 'Create > Folder')."""
        payload: dict[str, Any] = {"spaceId": self.space_id, "title": title}
        if parent:
            payload["parentId"] = parent
        response = self.api.post(f"{V2}/folders", json=payload)
        assert response.status_code == 200, response.text
        return response.json()

    def folder(self, folder_id: str) -> dict[str, Any]:
        response = self.api.get(f"{V2}/folders/{folder_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def move(self, page_id: str, parent: str) -> dict[str, Any]:
        """A colleague drags the page under another page or a folder in the page tree."""
        return self.edit(page_id, parent=parent)

    def reset_stats(self) -> None:
        assert self.api.delete("/_sandbox/stats").status_code == 200

    def stats(self) -> dict[str, Any]:
        return self.api.get("/_sandbox/stats").json()

    def faults(self, **settings: Any) -> None:
        response = self.api.put("/_sandbox/faults", json=settings)
        assert response.status_code == 200, response.text


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


def ordered_guides(world: World) -> None:
    """guides/ whose files say their places: Intro (front matter title), Install, FAQ, then Notes."""
    world.write("guides/index.md", "# Guides\n\nAll of them.\n")
    world.write("guides/02-install.md", "# Install\n\nSecond.\n")
    world.write("guides/notes.md", "# Notes\n\nNo place: after the placed ones.\n")
    world.write("guides/10-faq.md", "# FAQ\n\nTenth.\n")
    world.write("guides/01-intro.md", "---\ntitle: Intro\n---\nFirst.\n")
