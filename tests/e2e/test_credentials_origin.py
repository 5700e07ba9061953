"""Credentials go only to the configured site: an attachment link or a redirect to another
origin is followed with nothing of the site's, and a listing's next link elsewhere stops the
run before the token goes there.

The real CLI against a sandbox behind a small proxy that sets a cookie on every answer (so a
cookie jar has one to carry) and answers chosen paths itself; the other origin is a second
loopback server, on another port, that notes the headers it gets.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.proxies import world_behind
from tests.support.world import V2, World

PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
ELSEWHERE_FILE = b"\x89PNG\r\n\x1a\n" + b"from the other origin" * 3
COOKIE = b"sandbox-session=cookie-Qm4Vt8Zr; Path=/"
SECRETS = (DEFAULT_TOKEN, base64.b64encode(f"{DEFAULT_EMAIL}:{DEFAULT_TOKEN}".encode()).decode(), "cookie-Qm4Vt8Zr")


class Detour:
    """The sandbox, with a cookie on every answer; a path that ``matches`` gets ``answer``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.matches: Callable[[str], bool] = lambda path: False
        self.answer: tuple[int, list[tuple[bytes, bytes]], bytes] = (404, [], b"")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.matches(scope["path"]):
            status, headers, body = self.answer
            await send({"type": "http.response.start", "status": status,
                        "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return

        async def with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", COOKIE)]}
            await send(message)

        await self.app(scope, receive, with_cookie)


class Elsewhere:
    """Another origin: answers every request with a file and keeps the headers it got."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.seen.append({name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"image/png"), (b"content-length", str(len(ELSEWHERE_FILE)).encode())]})
        await send({"type": "http.response.body", "body": ELSEWHERE_FILE})


@dataclass
class Scene:
    world: World
    detour: Detour
    elsewhere: Elsewhere
    elsewhere_url: str


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    other = create_sandbox(spaces=("OTHER",))
    elsewhere = Elsewhere()
    other.app = elsewhere
    with BackgroundServer(other) as other_server, world_behind(tmp_path, Detour) as (world, detour):
        assert other_server.url != world.url  # another origin: the same host, another port
        yield Scene(world, detour, elsewhere, other_server.url)


def page_with_picture(world: World) -> str:
    page = world.create("Gallery", '<p>See:</p><ac:image><ri:attachment ri:filename="pic.png" /></ac:image>',
                        parent=world.home_id)
    uploaded = world.api.post(f"/wiki/rest/api/content/{page['id']}/child/attachment",
                              headers={"X-Atlassian-Token": "no-check"},
                              files={"file": ("pic.png", PICTURE, "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    return str(page["id"])


def pull_sends_nothing_of_ours(scene: Scene, matches: Callable[[str], bool],
                               answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
    """With the detour answering ``matches`` so, a pull takes the picture from the other
    origin, which saw no credential, cookie or header of the site's."""
    scene.detour.matches, scene.detour.answer = matches, answer
    run = scene.world.pull()
    assert run.code == 0, run
    assert (scene.world.docs / "gallery.assets" / "pic.png").read_bytes() == ELSEWHERE_FILE
    assert scene.elsewhere.seen, "the other origin was never asked"
    for headers in scene.elsewhere.seen:
        assert not {"authorization", "cookie", "maton-connection"} & set(headers), headers
        text = json.dumps(headers)
        assert not [secret for secret in SECRETS if secret in text], headers


def test_an_absolute_download_link_on_another_origin_gets_no_credentials(scene: Scene) -> None:
    world = scene.world
    page_id = page_with_picture(world)
    listing = world.api.get(f"{V2}/pages/{page_id}/attachments").json()
    link = f"{scene.elsewhere_url}/media/pic.png?token=media-token"
    for item in listing["results"]:
        item["downloadLink"] = link
        item["_links"]["download"] = link
    pull_sends_nothing_of_ours(scene, lambda path: path == f"{V2}/pages/{page_id}/attachments",
                               (200, [(b"content-type", b"application/json")], json.dumps(listing).encode()))


def test_a_redirect_to_another_origin_is_followed_without_credentials(scene: Scene) -> None:
    world = scene.world
    page_with_picture(world)
    location = f"{scene.elsewhere_url}/file/binary?token=media-token".encode()
    pull_sends_nothing_of_ours(scene, lambda path: path.startswith("/wiki/download/"),
                               (302, [(b"location", location)], b""))


def test_a_next_link_to_another_origin_stops_the_run_before_the_token_goes_there(scene: Scene) -> None:
    world = scene.world
    world.write("a.md", "# A\n\nText.\n")
    assert world.push().code == 0
    before = world.snapshot()
    real = world.api.get(f"{V2}/spaces/{world.space_id}/pages", params={"limit": 1}).json()
    real["_links"]["next"] = f"{scene.elsewhere_url}/wiki/api/v2/spaces/{world.space_id}/pages?cursor=abc"
    scene.detour.matches = lambda path: path == f"{V2}/spaces/{world.space_id}/pages"
    scene.detour.answer = (200, [(b"content-type", b"application/json")], json.dumps(real).encode())
    run = world.run("pull")
    assert run.code == 1, run
    assert "sends the credentials nowhere else" in run.stderr and "Traceback" not in run.stderr, run
    assert scene.elsewhere.seen == []
    assert world.snapshot() == before
