"""A sandbox behind a small ASGI wrapper that changes what it answers, as a proxy in the way
or a hostile server would, for end-to-end tests of what mdsync does with such answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mdsync.sandbox.app import create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.world import World

Wrapper = TypeVar("Wrapper")


class Rewriting:
    """Passes the answer to each request ``chosen`` picks (by its ASGI scope) through
    ``rewrite``, its body whole; every other request goes to the sandbox as it is."""

    def __init__(self, app: Any, chosen: Callable[[dict[str, Any]], bool],
                 rewrite: Callable[[bytes], bytes]) -> None:
        self.app = app
        self.chosen = chosen
        self.rewrite = rewrite

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.chosen(scope):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def rewritten(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = self.rewrite(b"".join(chunks))
            headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewritten)


@contextmanager
def world_behind(tmp_path: Path, wrap: Callable[[Any], Wrapper]) -> Iterator[tuple[World, Wrapper]]:
    """A world whose sandbox answers through ``wrap(sandbox app)``, and that wrapper."""
    sandbox = create_sandbox(spaces=("DOCS",))
    wrapper = wrap(sandbox.app)
    sandbox.app = wrapper
    with BackgroundServer(sandbox) as server:
        (tmp_path / "project").mkdir()
        world = World(tmp_path / "project", server)
        try:
            yield world, wrapper
        finally:
            world.close()
