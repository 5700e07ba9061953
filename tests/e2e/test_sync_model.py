"""A model test of two-way sync: random edits on both sides, runs, crashes; nothing is lost.

A hypothesis state machine edits files here (a new line near the top) and pages in
Confluence (a new paragraph at the end), deletes files, and runs push, pull and sync
(merge policy), sometimes with the network dying part-way through a run. Each edit leaves
a unique token. Invariants after every step:

- no edit is lost: every token of a file that was not deleted is in the file, in its page,
  or in the conflict copy beside the file;
- no duplicate page: every title appears once in the tree;
- the state only names pages that exist.

At the end the conflicts are settled and syncs run until nothing is left to do: then both
sides hold every token, and a further sync writes nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from mdsync.config import parse_config
from mdsync.confluence.client import ConfluenceClient
from mdsync.confluence.retry import RetryPolicy
from mdsync.sandbox.app import create_sandbox
from mdsync.sync.engine import Engine, RunOptions
from mdsync.sync.report import Report

FILES = ["alpha.md", "beta.md", "guide/index.md", "guide/setup.md"]
MARKER = re.compile(r"^(<<<<<<< .*|=======|>>>>>>> .*)\n?", re.MULTILINE)


class DyingTransport(httpx.AsyncBaseTransport):
    """The network fails for good after ``budget`` requests (a crash, as the state sees it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, budget: int | None) -> None:
        self.inner = inner
        self.budget = budget

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.budget is not None:
            if self.budget <= 0:
                raise httpx.ConnectError("the network is gone", request=request)
            self.budget -= 1
        return await self.inner.handle_async_request(request)


class SyncModel(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mdsync-model-"))
        self.docs = self.folder / "docs"
        self.box = create_sandbox(spaces=("DOCS",))
        self.config = parse_config("confluence:\n  url: http://127.0.0.1:1\n  auth: token\n  email: sandbox@example.com\n"
                                   "  token: sandbox-token\nspace: DOCS\ndocs: docs\nsync:\n  max_delete: 100%\n",
                                   root=self.folder, environ={})
        self.expected: dict[str, set[str]] = {}
        self.counter = 0
        for path in FILES:
            self.write(path, f"# Page {path}\n\nFirst line of {path}.\n\nLast line.\n")
            self.expected[path] = set()
        report = self.run("push")
        assert report.exit_code == 0, report.as_dict()

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.box.store.close()

    # -- helpers ------------------------------------------------------------------------------

    def write(self, path: str, text: str) -> None:
        file = self.docs / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")

    def token(self, side: str) -> str:
        self.counter += 1
        return f"{side}{self.counter}x"

    def run(self, mode: str, budget: int | None = None, **options: Any) -> Report:
        transport = DyingTransport(httpx.ASGITransport(app=self.box.app), budget)

        async def go() -> Report:
            client = ConfluenceClient(self.config.confluence, transport=transport,
                                      retry=RetryPolicy(attempts=2, base_delay=0, max_delay=0))
            async with client:
                return await Engine(self.config, client).run(RunOptions(mode=mode, on_conflict="merge", **options))

        try:
            return asyncio.run(go())
        except Exception as error:  # the network died before the plan was made: nothing happened
            if budget is None:
                raise
            assert "network" in str(error).lower() or "reach" in str(error).lower() or "attempts" in str(error), error
            return Report(mode)

    def state(self) -> dict[str, Any]:
        path = self.folder / ".mdsync" / "state.json"
        return json.loads(path.read_text(encoding="utf-8"))["files"] if path.exists() else {}

    def page_body(self, page_id: str) -> str:
        try:
            return self.box.store.content(int(page_id)).body
        except Exception:
            return ""

    def tree_titles(self) -> list[str]:
        space = self.box.store.space_by_key("DOCS")
        assert space is not None
        return [page.title for page in self.box.store.contents("page", space_ids=[space.id])
                if page.id != space.homepage_id]

    # -- rules ----------------------------------------------------------------------------------

    @rule(path=st.sampled_from(FILES))
    def edit_here(self, path: str) -> None:
        file = self.docs / path
        if not file.exists():
            return
        token = self.token("L")
        lines = file.read_text(encoding="utf-8").split("\n")
        lines.insert(2 if len(lines) > 2 else len(lines), f"Local {token}.\n")
        file.write_text("\n".join(lines), encoding="utf-8")
        # setdefault: a deleted file may be back (the user kept Confluence's copy of it).
        self.expected.setdefault(path, set()).add(token)

    @rule(path=st.sampled_from(FILES))
    def edit_in_confluence(self, path: str) -> None:
        entry = self.state().get(path)
        if entry is None:
            return
        store = self.box.store
        try:
            page = store.content(int(entry["page_id"]))
        except Exception:
            return
        if page.status != "current":
            return
        token = self.token("R")
        store.update_content("page", page.id, title=page.title, body=page.body + f"<p>Remote {token}.</p>",
                             status="current", version=page.version + 1)
        self.expected.setdefault(path, set()).add(token)

    @rule(path=st.sampled_from(FILES[1:2] + FILES[3:]))
    def delete_here(self, path: str) -> None:
        file = self.docs / path
        if file.exists():
            file.unlink()
            self.expected.pop(path, None)

    @rule(mode=st.sampled_from(["push", "pull", "sync", "sync"]), crash=st.one_of(st.none(), st.integers(2, 12)))
    def run_mdsync(self, mode: str, crash: int | None) -> None:
        self.run(mode, budget=crash)

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def no_edit_is_lost(self) -> None:
        if not hasattr(self, "expected"):
            return
        state = self.state()
        for path, tokens in self.expected.items():
            file = self.docs / path
            here = file.read_text(encoding="utf-8") if file.exists() else ""
            copy = file.with_name(file.name[:-3] + ".remote.md")
            beside = copy.read_text(encoding="utf-8") if copy.exists() else ""
            there = self.page_body(state[path]["page_id"]) if path in state else ""
            for token in tokens:
                assert token in here or token in there or token in beside, (path, token)

    @invariant()
    def no_duplicate_page(self) -> None:
        if not hasattr(self, "box"):
            return
        titles = [title.lower() for title in self.tree_titles()]
        assert len(titles) == len(set(titles)), titles

    @invariant()
    def state_names_existing_pages(self) -> None:
        if not hasattr(self, "box"):
            return
        for path, entry in self.state().items():
            page = self.box.store.content(int(entry["page_id"]))
            assert page.status in ("current", "trashed"), (path, page.status)

    # -- the end: settle and converge ---------------------------------------------------------------

    @precondition(lambda self: hasattr(self, "box"))
    @rule()
    def settle_and_converge(self) -> None:
        for _ in range(4):
            for file in self.docs.rglob("*.md"):
                if file.name.endswith(".remote.md"):
                    continue
                if "<<<<<<<" in file.read_text(encoding="utf-8"):
                    file.write_text(MARKER.sub("", file.read_text(encoding="utf-8")), encoding="utf-8")
            for copy in self.docs.rglob("*.remote.md"):
                file = copy.with_name(copy.name[: -len(".remote.md")] + ".md")
                if file.exists():
                    copy.unlink()
                else:
                    # Deleted here, edited in Confluence: the user keeps Confluence's edit.
                    copy.rename(file)
            report = self.run("sync")
            if not [outcome for outcome in report.outcomes if outcome.action not in ("noop", "keep", "local_only",
                                                                                      "remote_only")]:
                break
        final = self.run("sync")
        assert [o.action for o in final.outcomes if o.action not in ("noop", "keep")] == [], final.as_dict()
        state = self.state()
        for path, tokens in self.expected.items():
            text = (self.docs / path).read_text(encoding="utf-8")
            body = self.page_body(state[path]["page_id"])
            for token in tokens:
                assert token in text and token in body, (path, token)
            assert "<<<<<<<" not in text


TestSyncModel = SyncModel.TestCase
TestSyncModel.settings = settings(max_examples=25, stateful_step_count=12, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
