"""End-to-end fixtures: ``world``, one sandbox and one project folder per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mdsync.sandbox.app import create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with BackgroundServer(create_sandbox(spaces=("DOCS",))) as server:
        (tmp_path / "project").mkdir()
        project = World(tmp_path / "project", server)
        try:
            yield project
        finally:
            project.close()
