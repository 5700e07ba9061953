"""Answers that are not what Confluence sends (a login page from a proxy or SSO wall, JSON
of the wrong shape) end the run in one sentence that says what came back, and lose nothing.

The real CLI against a sandbox behind a small fault proxy: an ASGI wrapper that answers
chosen paths itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.proxies import world_behind
from tests.support.world import World, pushed, small_tree

LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>...</form></body></html>"


class FaultProxy:
    """Answers a request whose path ``matches`` with ``answer`` (status, content type, body)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.matches: Callable[[str], bool] = lambda path: False
        self.answer: tuple[int, str, bytes] = (200, "text/html; charset=utf-8", LOGIN_PAGE)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.matches(scope["path"]):
            await self.app(scope, receive, send)
            return
        status, content_type, body = self.answer
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[World, FaultProxy]]:
    with world_behind(tmp_path, FaultProxy) as (world, proxy):
        yield world, proxy


def one_sentence(run: Any) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in (run.stderr + run.stdout).splitlines() if line.strip()]
    return " ".join(lines)


def test_a_login_page_instead_of_json_is_named_and_stops_the_run(proxied: tuple[World, FaultProxy]) -> None:
    world, proxy = proxied
    small_tree(world)
    proxy.matches = lambda path: path.startswith("/wiki/api/v2/spaces")
    run = world.run("push")
    assert run.code == 1, run
    message = one_sentence(run)
    assert "HTML page" in message and "login or proxy page" in message and "127.0.0.1" in message
    assert "JSONDecodeError" not in message


def test_a_listing_of_the_wrong_shape_stops_before_any_file_is_touched(proxied: tuple[World, FaultProxy]) -> None:
    world, proxy = proxied
    small_tree(world)
    pushed(world)
    before = world.snapshot()
    row = {"id": "1", "status": "current", "title": "T", "version": {"number": 1}}  # no parentId
    for body in ({"results": None}, {"results": [{"title": "no id"}]}, "not json at all", {"results": [row]}):
        proxy.matches = lambda path: path.endswith("/pages") and "/spaces/" in path
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        proxy.answer = (200, "application/json", raw)
        run = world.run("pull")
        assert run.code == 1, run
        message = one_sentence(run)
        assert "is not what Confluence sends" in message and "TypeError" not in message, message
        assert world.snapshot() == before  # no file removed, no state changed
