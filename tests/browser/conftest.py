"""Browser fixtures: the sample docs pushed by the real CLI into a sandbox on a free loopback
port, a colleague's page with what Markdown cannot write, and Debian's Chromium, headless,
driven by Playwright (``make test-browser``; ``make test`` never collects this folder).
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from mdsync.sandbox.app import create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support import REPO
from tests.support.world import V2, World

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SAMPLE_DOCS = REPO / "mdsync" / "sample_docs"
WIDTH = 1024  # the narrow window the preview must fit without scrolling sideways
COLLEAGUE_PAGE = "Team status"
MISSING_TITLE = "Roadmap 2027"
LONG_LINE = "curl " + " ".join(f"--header 'X-Acme-Trace-{n}: {n:04d}'" for n in range(40))

# What a colleague writes in Confluence and the sample docs cannot say in Markdown.
COLLEAGUE_BODY = (
    '<ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">3</ac:parameter></ac:structured-macro>'
    "<h2>This week</h2>"
    '<p>Release: <ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter>'
    '<ac:parameter ac:name="title">On track</ac:parameter></ac:structured-macro> Store: '
    '<ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Red</ac:parameter>'
    '<ac:parameter ac:name="title">Blocked</ac:parameter></ac:structured-macro> '
    'due <time datetime="2026-12-01" /></p>'
    '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Heads up</ac:parameter>'
    "<ac:rich-text-body><p>The freeze starts on Friday.</p></ac:rich-text-body></ac:structured-macro>"
    f'<p>Plans are in <ac:link><ri:page ri:content-title="{MISSING_TITLE}" /></ac:link>.</p>'
    "<h2>Wide things</h2>"
    '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter>'
    f"<ac:plain-text-body><![CDATA[{LONG_LINE}]]></ac:plain-text-body></ac:structured-macro>"
    "<table><tbody><tr>" + "".join(f"<th>Column{n}Heading</th>" for n in range(14)) + "</tr><tr>"
    + "".join(f"<td>value-number-{n}-unbroken</td>" for n in range(14)) + "</tr></tbody></table>"
    '<p><ac:image><ri:attachment ri:filename="wide.png" /></ac:image></p>'
    "<h3>Details</h3>"
    '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Who is on call</ac:parameter>'
    "<ac:rich-text-body><p>Dana, then Lee.</p></ac:rich-text-body></ac:structured-macro>"
)


def wide_png(width: int = 2400, height: int = 60) -> bytes:
    """A PNG wider than the window (no imaging library needed): a blue band."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\x52\xcc" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class Site:
    """The sandbox the browser looks at, and what was put in it."""

    url: str
    world: World
    pages: dict[str, dict[str, Any]]  # title -> the page as the API lists it

    def address(self, title: str) -> str:
        return self.url + "/wiki" + self.pages[title]["_links"]["webui"]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with BackgroundServer(create_sandbox(spaces=("DOCS",))) as server:
        root = tmp_path_factory.mktemp("browser") / "project"
        root.mkdir()
        world = World(root, server)
        try:
            shutil.rmtree(world.docs)
            shutil.copytree(SAMPLE_DOCS, world.docs)
            pushed = world.push("--allow-home")  # the sample home page's body is index.md
            assert pushed.code == 0, pushed
            _add_colleague_page(world)
            yield Site(server.url, world, world.by_title())
        finally:
            world.close()


def _add_colleague_page(world: World) -> None:
    made = world.api.post(f"{V2}/pages", json={
        "spaceId": world.space_id, "status": "current", "title": COLLEAGUE_PAGE, "parentId": world.home_id,
        "body": {"representation": "storage", "value": COLLEAGUE_BODY}})
    assert made.status_code == 200, made.text
    uploaded = world.api.post(f"/wiki/rest/api/content/{made.json()['id']}/child/attachment",
                              headers={"X-Atlassian-Token": "no-check"},
                              files={"file": ("wide.png", wide_png(), "image/png")})
    assert uploaded.status_code == 200, uploaded.text


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("make test-browser needs Chromium: apt-get install chromium (or set CHROMIUM=/path/to/it)")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's Chromium, not a browser build of Playwright's own (nothing is downloaded).
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTH, "height": 800})
    context.set_default_timeout(60_000)  # a loaded 2-core machine; no test measures time
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()

