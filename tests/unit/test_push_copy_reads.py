"""A first push reads no copies from ``.mdsync/``: a file the state has no entry for has no
page as last synced (issue 16: at 10,000 files, two failed opens a file were a measurable
part of the main process). A later push of a changed file does read its copies.

The engine and client over ``httpx.ASGITransport`` into an in-process sandbox.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from mdsync.config import parse_config
from mdsync.confluence.client import ConfluenceClient
from mdsync.sandbox.app import create_sandbox
from mdsync.sync.engine import Engine, RunOptions
from mdsync.sync.state import State

FILES = ["alpha.md", "beta.md", "guide/index.md", "guide/setup.md"]


def test_a_first_push_reads_no_copy_and_a_later_push_reads_the_changed_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = create_sandbox(spaces=("DOCS",))
    config = parse_config("confluence:\n  url: http://127.0.0.1:1\n  auth: token\n  email: sandbox@example.com\n"
                          "  token: sandbox-token\nspace: DOCS\ndocs: docs\n", root=tmp_path, environ={})
    for path in FILES:
        file = tmp_path / "docs" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"# Page {path}\n\nText of {path}.\n", encoding="utf-8")
    read: list[Path] = []
    real_read = State._read_copy
    monkeypatch.setattr(State, "_read_copy", lambda self, copy: read.append(copy) or real_read(self, copy))

    def push() -> int:
        async def go() -> int:
            async with ConfluenceClient(config.confluence, transport=httpx.ASGITransport(app=box.app)) as client:
                return (await Engine(config, client).run(RunOptions(mode="push"))).exit_code
        return asyncio.run(go())

    try:
        assert push() == 0
        assert read == []
        (tmp_path / "docs" / "beta.md").write_text("# Page beta.md\n\nChanged.\n", encoding="utf-8")
        assert push() == 0
    finally:
        box.store.close()
    assert read, "a changed file's push takes back what Markdown cannot say from its storage copy"
    assert {copy.name for copy in read} <= {"beta.md", "beta.md.storage", "beta.md.kept.json"}
