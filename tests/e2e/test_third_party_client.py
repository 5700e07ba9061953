"""A third-party Confluence Cloud v2 client publishes a docs tree to the sandbox and reads it
back unchanged: the sandbox serves other tools as Cloud would, not only mdsync.

The client is ``markdown-to-confluence`` 0.6.5 (module ``md2conf``), run as a subprocess from
its own virtualenv, which ``make test`` installs into ``.venv/clients/md2conf`` (or point
``MD2CONF_PYTHON`` at an interpreter that has it). It converts the Markdown itself, publishes
the directory with ``--keep-hierarchy`` (``reference/index.md`` with ``content_type: folder``
becomes a Confluence folder), and reads the pages back through its own client. A recorder in
front of the sandbox keeps what it sent, so the stored bodies are compared with exactly that.
The one difference allowed is the one Cloud makes on an API save: an ``ac:macro-id`` added to a
macro sent without one (shared/reference/real-confluence.md).

md2conf is pointed at the sandbox with ``CONFLUENCE_API_URL=http://127.0.0.1:PORT/wiki/`` plus
``CONFLUENCE_DOMAIN`` and ``CONFLUENCE_PATH``: without the last two, md2conf 0.6.5 probes
``GET /wiki/api/v2/spaces?limit=1`` and requires ``_links.next`` in the answer, which Cloud
(and the sandbox) leave out when there is no further page; that is md2conf's bug.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer

REPO = Path(__file__).resolve().parents[2]
MD2CONF_PYTHON = Path(os.environ.get("MD2CONF_PYTHON", REPO / ".venv" / "clients" / "md2conf" / "bin" / "python"))

TREE = {
    "index.md": """\
        # Handbook

        Welcome to the **handbook**.

        - [Guide](guide.md)
        - [Nested](reference/nested.md)
        """,
    "guide.md": """\
        # User Guide

        A paragraph with `inline code` and *emphasis*.

        ```python
        print("hello")
        ```
        """,
    "reference/index.md": """\
        ---
        content_type: folder
        title: Reference
        ---
        """,
    "reference/nested.md": """\
        # Nested Page

        | Name | Value |
        |------|-------|
        | a    | 1     |
        """,
}


class Recorder:
    """ASGI wrapper that keeps (method, path, JSON body) of every request with a body."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent: list[tuple[str, str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.sent.append((scope["method"], scope["path"], body))
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


@pytest.fixture
def server() -> Iterator[tuple[BackgroundServer, Recorder]]:
    sandbox = create_sandbox(spaces=("DOCS",))
    recorder = Recorder(sandbox.app)
    sandbox.app = recorder
    with BackgroundServer(sandbox) as running:
        yield running, recorder


def md2conf_env(url: str) -> dict[str, str]:
    netloc = url.removeprefix("http://")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLUENCE_")}
    env.update({
        "CONFLUENCE_API_URL": f"{url}/wiki/",
        "CONFLUENCE_DOMAIN": netloc,          # skips the /spaces?limit=1 probe (see module docstring)
        "CONFLUENCE_PATH": "/wiki/",
        "CONFLUENCE_USER_NAME": DEFAULT_EMAIL,
        "CONFLUENCE_API_KEY": DEFAULT_TOKEN,
        "CONFLUENCE_SPACE_KEY": "DOCS",
        "CONFLUENCE_API_VERSION": "v2",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })
    return env


def publish(docs: Path, url: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [str(MD2CONF_PYTHON), "-m", "md2conf", str(docs), "--keep-hierarchy", "--skip-update",
         "--no-generated-by", "--loglevel", "info"],
        env=md2conf_env(url), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"md2conf failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
    return run


READ_BACK = textwrap.dedent("""\
    import json, sys
    from md2conf.api import ConfluenceAPI
    from md2conf.environment import ConnectionProperties
    out = {}
    with ConfluenceAPI(ConnectionProperties()) as api:
        space_id = api.space_key_to_id("DOCS")
        for title in sys.argv[1:]:
            props = api.get_page_properties_by_title(title, space_id=space_id)
            page = api.get_page(props.id)
            out[title] = {"id": page.id, "title": page.title, "body": page.content,
                          "version": page.version.number, "parentId": props.parentId,
                          "parentType": props.parentType.value if props.parentType else None}
    print(json.dumps(out))
    """)


def read_back_with_md2conf(url: str, titles: list[str]) -> dict[str, Any]:
    run = subprocess.run([str(MD2CONF_PYTHON), "-c", READ_BACK, *titles], env=md2conf_env(url),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"md2conf read-back failed:\n{run.stdout}\n{run.stderr}"
    return json.loads(run.stdout)


def write_tree(docs: Path, *, folder_descriptor: bool = True) -> Path:
    for name, text in TREE.items():
        if name == "reference/index.md" and not folder_descriptor:
            continue
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return docs


MACRO_ID = re.compile(r' ac:macro-id="[0-9a-f-]{36}"')


def without_macro_ids(storage: str) -> str:
    return MACRO_ID.sub("", storage)


def last_sent_bodies(recorder: Recorder) -> dict[str, dict[str, Any]]:
    """page id -> the last PUT /wiki/api/v2/pages/{id} body md2conf sent."""
    sent: dict[str, dict[str, Any]] = {}
    for method, path, body in recorder.sent:
        if method == "PUT" and path.startswith("/wiki/api/v2/pages/") and path.count("/") == 5:
            sent[path.rsplit("/", 1)[1]] = body
    return sent


def test_md2conf_publishes_a_tree_and_reads_it_back_unchanged(server: tuple[BackgroundServer, Recorder],
                                                              tmp_path: Path) -> None:
    if not MD2CONF_PYTHON.exists():
        pytest.fail(f"md2conf is not installed at {MD2CONF_PYTHON}: run 'make test', which installs "
                    "markdown-to-confluence==0.6.5 there (or set MD2CONF_PYTHON).")
    running, recorder = server
    docs = write_tree(tmp_path / "docs")
    before = {p: p.read_text() for p in docs.rglob("*.md")}

    publish(docs, running.url)
    assert {p: p.read_text() for p in docs.rglob("*.md")} == before  # --skip-update left sources alone

    titles = ["Handbook", "User Guide", "Nested Page"]
    pages = read_back_with_md2conf(running.url, titles)
    assert set(pages) == set(titles)
    for title in titles:
        assert pages[title]["title"] == title

    # Hierarchy: index.md becomes a page under the space home page (md2conf's root page), guide
    # under it, nested under folder "Reference" (from reference/index.md), the folder under index.md.
    auth = (DEFAULT_EMAIL, DEFAULT_TOKEN)
    with httpx.Client(base_url=running.url, auth=auth, timeout=10) as http:
        space = http.get("/wiki/api/v2/spaces", params={"keys": "DOCS"}).json()["results"][0]
        home = pages["Handbook"]
        assert home["parentId"] == space["homepageId"]
        assert home["parentType"] == "page"
        assert pages["User Guide"]["parentId"] == home["id"]
        assert pages["User Guide"]["parentType"] == "page"
        assert pages["Nested Page"]["parentType"] == "folder"
        folder = http.get(f"/wiki/api/v2/folders/{pages['Nested Page']['parentId']}")
        assert folder.status_code == 200, folder.text
        assert folder.json()["title"] == "Reference"
        assert folder.json()["parentId"] == home["id"]

        # What md2conf sent is what is stored, byte for byte, and what both readers see.
        # The only difference allowed is the one Cloud makes on an API save: a macro sent without
        # an ac:macro-id gets one (md2conf itself treats ac:macro-id as volatile).
        sent = last_sent_bodies(recorder)
        for title in titles:
            page = pages[title]
            put = sent[page["id"]]
            assert put["title"] == title
            storage = put["body"]["storage"]  # md2conf sends the nested form {"storage": {...}}
            assert storage["representation"] == "storage"
            assert without_macro_ids(page["body"]) == storage["value"], title
            direct = http.get(f"/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"})
            assert direct.status_code == 200
            assert direct.json()["title"] == title
            assert direct.json()["body"]["storage"]["value"] == page["body"]

    # Spot-check the content survived as storage XHTML.
    assert "<strong>handbook</strong>" in pages["Handbook"]["body"]
    assert f"/wiki/spaces/DOCS/pages/{pages['User Guide']['id']}/" in pages["Handbook"]["body"]
    assert '<ac:structured-macro ac:name="code"' in pages["User Guide"]["body"]
    assert '<![CDATA[print("hello")]]>' in pages["User Guide"]["body"]
    assert MACRO_ID.search(pages["User Guide"]["body"])  # added on save, as Cloud does
    assert "<th><p>Name</p></th>" in pages["Nested Page"]["body"]

    # A second run finds everything up to date and writes nothing.
    writes = len(recorder.sent)
    again = publish(docs, running.url)
    assert len(recorder.sent) == writes, recorder.sent[writes:]
    assert "Up-to-date page" in again.stderr + again.stdout
    assert read_back_with_md2conf(running.url, titles) == pages
