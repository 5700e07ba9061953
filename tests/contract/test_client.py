"""The Confluence client (mdsync/confluence) against the sandbox served over loopback HTTP.

Covers every auth path (site Basic, OAuth Bearer and scoped tokens through the Atlassian
gateway form, Maton with and without a pinned connection), cloud-id discovery, the OpenAPI
contract of every exchange in a realistic sequence, pagination request counts, retries under
injected faults (429, 503, dropped connections, lost responses) without duplicate writes,
Retry-After, the rate and concurrency caps, user-facing error messages, and that no token
ever shows in a repr or an exception.

The tests are plain sync functions that drive the async client with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import httpx
import pytest

from mdsync.config import ConfluenceConfig
from mdsync.confluence.client import ConfluenceClient, attachment_comment
from mdsync.confluence.errors import (
    AuthenticationFailed,
    BodyRejected,
    ConfluenceError,
    GatewayError,
    NotFound,
    PermissionDenied,
    RateLimited,
    TitleTaken,
    Unreachable,
    VersionConflict,
)
from mdsync.confluence.models import Page
from mdsync.confluence.retry import RetryPolicy
from mdsync.sandbox.app import create_sandbox
from mdsync.sandbox.server import BackgroundServer, free_port
from mdsync.sandbox.store import PAGE
from tests.support.openapi import ContractError, api_path, check_exchange, documents_for
from tests.support.sandbox import RunningSandbox

T = TypeVar("T")

EMAIL = "writer@example.com"
SECRET = "tok-Zq8W3xK9pL2mVb7Q"   # the sandbox's real token / Maton key: distinctive, so a leak is findable
WRONG = "bad-Yv7Rr4Nn0sQeUu1T"    # a wrong one, which must not leak either
PATHS = ("token", "oauth", "scoped", "maton", "maton-connection")
NO_FAULTS = {"latency_ms": 0, "rate_limit_share": 0, "unavailable_share": 0, "drop_share": 0,
             "lost_response_share": 0, "retry_after": 0, "seed": None, "cloud_sign_in_errors": False}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PNG2 = b"\x89PNG\r\n\x1a\n" + bytes(reversed(range(256))) * 5


# -- helpers --------------------------------------------------------------------------------


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def fast(**overrides: Any) -> RetryPolicy:
    """Retries that take milliseconds, seeded so the jitter repeats."""
    options: dict[str, Any] = {"base_delay": 0.01, "max_delay": 0.05, "random": random.Random(7)}
    options.update(overrides)
    return RetryPolicy(**options)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def secrets_in(text: str) -> list[str]:
    """Every form of a credential that must never show: the tokens and their Basic encodings."""
    forms = [SECRET, WRONG]
    for token in (SECRET, WRONG):
        forms.append(base64.b64encode(f"{EMAIL}:{token}".encode()).decode())
    return [form for form in forms if form in text]


def assert_no_secret(error: BaseException) -> None:
    for text in (str(error), repr(error), str(error.args)):
        assert not secrets_in(text), f"a credential leaked into {type(error).__name__}: {text}"


@contextmanager
def serve(**options: Any) -> Iterator[RunningSandbox]:
    box = create_sandbox(spaces=("DOCS",), email=EMAIL, token=SECRET, **options)
    with BackgroundServer(box) as server:
        yield RunningSandbox(box, server)


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningSandbox]:
    """One sandbox for most tests (Maton's per-second limit off; its own test has its own)."""
    with serve(maton_per_second=0) as running:
        yield running


@pytest.fixture
def sb(shared: RunningSandbox) -> Iterator[RunningSandbox]:
    shared.box.faults.update(NO_FAULTS)
    yield shared
    shared.box.faults.update(NO_FAULTS)


def config_for(sb: RunningSandbox, path: str, *, token: str = SECRET, **changes: Any) -> ConfluenceConfig:
    url = sb.url
    if path == "token":
        config = ConfluenceConfig(url=url, auth="token", email=EMAIL, token=token)
    elif path == "oauth":
        config = ConfluenceConfig(url=url, auth="bearer", token=token, gateway=url)
    elif path == "scoped":
        config = ConfluenceConfig(url=url, auth="bearer", email=EMAIL, token=token, gateway=url)
    elif path == "maton":
        config = ConfluenceConfig(url=url, auth="maton", token=token)
    elif path == "maton-connection":
        config = ConfluenceConfig(url=url, auth="maton", token=token, connection=sb.store.connection_id)
    else:
        raise ValueError(path)
    return dataclasses.replace(config, **changes) if changes else config


@asynccontextmanager
async def connected(sb: RunningSandbox, path: str = "token", *, token: str = SECRET,
                    retry: RetryPolicy | None = None, hooks: dict[str, list[Any]] | None = None,
                    concurrency: int = 8, given_cloud_id: str | None = None,
                    **changes: Any) -> AsyncIterator[ConfluenceClient]:
    """A client that is always closed, also when opening it fails (no ``__aenter__``).

    ``given_cloud_id`` goes to the client; ``cloud_id=`` in ``changes`` goes to the config."""
    client = ConfluenceClient(config_for(sb, path, token=token, **changes), concurrency=concurrency,
                              cloud_id=given_cloud_id, retry=retry or fast(), event_hooks=hooks, timeout=15)
    try:
        yield client
    finally:
        await client.close()


class Recorder:
    """Event hooks that note every request and response, and the peak number in flight."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []
        self.in_flight = 0
        self.peak = 0
        self.before_send: list[Callable[[httpx.Request, int], None]] = []

    async def on_request(self, request: httpx.Request) -> None:
        self.requests.append(request)
        for action in self.before_send:
            action(request, len(self.requests))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def on_response(self, response: httpx.Response) -> None:
        self.in_flight -= 1
        self.statuses.append(response.status_code)

    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path.endswith(suffix))


class Contract:
    """A response hook that validates each exchange against Atlassian's OpenAPI documents."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.violations: list[str] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.request.aread()
        await response.aread()
        try:
            check_exchange(response)
        except ContractError as violation:
            self.violations.append(str(violation))
            raise
        path = api_path(response.request.url)
        if documents_for(path):
            self.checked.append(f"{response.request.method} {path} {response.status_code}")


def fault_first(sb: RunningSandbox, recorder: Recorder, count: int, fault: str = "lost_response_share") -> None:
    """Apply ``fault`` to the next ``count`` requests (lose their answers, by default), then stop."""
    sb.box.faults.update({fault: 1.0, "retry_after": 0})
    start = len(recorder.requests)

    def action(request: httpx.Request, number: int) -> None:
        if number - start > count:
            sb.box.faults.update({fault: 0})

    recorder.before_send.append(action)


def looked_up(recorder: Recorder) -> int:
    """How many times the client looked for a page by title (it does so after an uncertain create)."""
    return sum(1 for r in recorder.requests
               if r.method == "GET" and r.url.path.endswith("/wiki/api/v2/pages") and "title" in r.url.params)


def space_of(sb: RunningSandbox, key: str = "DOCS") -> Any:
    space = sb.store.space_by_key(key)
    assert space is not None
    return space


def stored_titled(sb: RunningSandbox, space_id: str, title: str) -> list[Any]:
    return sb.store.contents(PAGE, space_ids=[int(space_id)], title=title, statuses=["current"])


# -- 1. every auth path ---------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_each_auth_path_sends_its_form_and_credentials(sb: RunningSandbox, path: str) -> None:
    recorder = Recorder()

    async def scenario() -> tuple[dict[str, Any], Any]:
        async with connected(sb, path, hooks=recorder.hooks()) as client:
            user = await client.current_user()
            space = await client.space("DOCS")
            return user, space

    user, space = run(scenario())
    assert user["accountId"] and user["displayName"] == "Sandbox User"
    assert space.key == "DOCS" and space.id == str(space_of(sb).id)
    api = [r for r in recorder.requests if "/wiki/" in r.url.path]
    assert len(api) == 2
    cloud = sb.store.cloud_id
    expected_prefix = {"token": "/wiki/", "oauth": f"/ex/confluence/{cloud}/wiki/",
                       "scoped": f"/ex/confluence/{cloud}/wiki/", "maton": f"/confluence/ex/confluence/{cloud}/wiki/",
                       "maton-connection": f"/confluence/ex/confluence/{cloud}/wiki/"}[path]
    for request in api:
        assert request.url.path.startswith(expected_prefix), request.url
        authorization = request.headers["authorization"]
        if path in ("token", "scoped"):
            assert authorization == "Basic " + base64.b64encode(f"{EMAIL}:{SECRET}".encode()).decode()
        else:
            assert authorization == f"Bearer {SECRET}"
        if path == "maton-connection":
            assert request.headers["maton-connection"] == sb.store.connection_id
        else:
            assert "maton-connection" not in request.headers


@pytest.mark.parametrize("path", PATHS)
def test_wrong_token_is_authentication_failed_without_the_token(sb: RunningSandbox, path: str) -> None:
    async def scenario() -> None:
        async with connected(sb, path, token=WRONG) as client:
            await client.current_user()

    with pytest.raises(AuthenticationFailed) as caught:
        run(scenario())
    assert_no_secret(caught.value)
    assert "token" in str(caught.value).lower() or "key" in str(caught.value).lower()


def test_credentials_cloud_does_not_accept_are_a_sign_in_error_from_v2_and_v1(sb: RunningSandbox) -> None:
    """Cloud answers them with a bare 404 (v2) and 403 "caller cannot access Confluence" (v1)."""
    sb.box.faults.update({"cloud_sign_in_errors": True})
    caught: list[BaseException] = []

    async def scenario() -> None:
        async with connected(sb, "token", token=WRONG) as client:
            for call in (lambda: client.space("DOCS"), lambda: client.expect("GET", "/rest/api/space", what="list")):
                try:
                    await call()
                except AuthenticationFailed as error:
                    caught.append(error)

    run(scenario())
    assert len(caught) == 2
    from_v2, from_v1 = (str(error) for error in caught)
    assert from_v2.startswith(f"Confluence did not accept the credentials for {EMAIL} at {sb.url}")
    assert "CONFLUENCE_API_TOKEN" in from_v2 and from_v1.startswith("Confluence did not accept the credentials")
    assert "space admin" not in from_v1
    for error in caught:
        assert_no_secret(error)


def test_a_space_search_with_no_match_is_not_taken_for_a_sign_in_error(sb: RunningSandbox) -> None:
    sb.box.faults.update({"cloud_sign_in_errors": True})

    async def scenario() -> None:
        async with connected(sb, "token") as client:
            await client.space("NOPE")

    with pytest.raises(NotFound, match="no Confluence space with key 'NOPE'"):
        run(scenario())


@pytest.mark.parametrize("path", ("maton", "oauth"))
def test_wrong_token_with_known_cloud_id_is_authentication_failed(sb: RunningSandbox, path: str) -> None:
    async def scenario() -> None:
        async with connected(sb, path, token=WRONG, given_cloud_id=sb.store.cloud_id) as client:
            await client.space("DOCS")

    with pytest.raises(AuthenticationFailed) as caught:
        run(scenario())
    assert_no_secret(caught.value)


@pytest.mark.parametrize("known_cloud_id", (False, True))
def test_unknown_maton_connection_tells_the_user_to_create_one(sb: RunningSandbox, known_cloud_id: bool) -> None:
    async def scenario() -> None:
        async with connected(sb, "maton", connection="conn-does-not-exist",
                             given_cloud_id=sb.store.cloud_id if known_cloud_id else None) as client:
            await client.current_user()

    with pytest.raises(GatewayError) as caught:
        run(scenario())
    message = str(caught.value).lower()
    assert "create" in message and "connection" in message
    assert_no_secret(caught.value)


# -- 2. cloud-id discovery ------------------------------------------------------------------


@pytest.mark.parametrize("path", ("oauth", "scoped"))
def test_bearer_discovers_cloud_id_from_tenant_info(sb: RunningSandbox, path: str) -> None:
    recorder = Recorder()

    async def scenario() -> str | None:
        async with connected(sb, path, hooks=recorder.hooks()) as client:
            assert client.cloud_id is None
            await client.current_user()
            return client.cloud_id

    assert run(scenario()) == sb.store.cloud_id
    assert recorder.paths().count("/_edge/tenant_info") == 1
    assert not any(p.endswith("accessible-resources") for p in recorder.paths())


@pytest.mark.parametrize("path", ("oauth", "scoped", "maton", "maton-connection"))
def test_given_cloud_id_means_no_discovery_request(sb: RunningSandbox, path: str) -> None:
    recorder = Recorder()

    async def scenario() -> str | None:
        async with connected(sb, path, hooks=recorder.hooks(), given_cloud_id=sb.store.cloud_id) as client:
            assert client.cloud_id == sb.store.cloud_id
            await client.current_user()
            return client.cloud_id

    assert run(scenario()) == sb.store.cloud_id
    assert len(recorder.requests) == 1
    assert recorder.paths()[0].endswith("/wiki/rest/api/user/current")
    assert sb.store.cloud_id in recorder.paths()[0]


def test_cloud_id_from_config_means_no_discovery_request(sb: RunningSandbox) -> None:
    recorder = Recorder()

    async def scenario() -> str | None:
        async with connected(sb, "oauth", hooks=recorder.hooks(), cloud_id=sb.store.cloud_id) as client:
            await client.space("DOCS")
            return client.cloud_id

    assert run(scenario()) == sb.store.cloud_id
    assert all("tenant_info" not in p and "accessible-resources" not in p for p in recorder.paths())


@pytest.mark.parametrize("path", ("maton", "maton-connection"))
def test_maton_discovers_cloud_id_from_accessible_resources(sb: RunningSandbox, path: str) -> None:
    recorder = Recorder()

    async def scenario() -> str | None:
        async with connected(sb, path, hooks=recorder.hooks()) as client:
            await client.open()
            return client.cloud_id

    assert run(scenario()) == sb.store.cloud_id
    assert recorder.paths() == ["/confluence/oauth/token/accessible-resources"]
    assert recorder.requests[0].headers["authorization"] == f"Bearer {SECRET}"


# -- 3. every exchange of a realistic sequence matches Atlassian's documents ------------------


async def realistic_sequence(client: ConfluenceClient) -> None:
    space = await client.space("DOCS")
    top_title, child_title = unique("Guide"), unique("Install")
    top = await client.create_page(space.id, top_title, "<p>Top</p>", None)
    first_body = "<h1>Install</h1><p>Run <code>it</code>.</p>"
    child = await client.create_page(space.id, child_title, first_body, top.id)
    assert child.parent_id == top.id and child.version.number == 1

    got = await client.get_page(child.id)
    assert got.body == first_body and got.title == child_title
    updated = await client.update_page(got, title=child_title, body="<p>Run it twice.</p>", message="second")
    assert updated.version.number == 2 and updated.version.message == "second"
    assert (await client.get_page(child.id)).body == "<p>Run it twice.</p>"
    old = await client.get_page(child.id, version=1)
    assert old.body == first_body
    assert await client.find_page(space.id, child_title.upper()) is not None

    tree = await client.page_tree(space.id, top.id, bodies=True)
    assert {page.id for page in tree} == {top.id, child.id}
    assert {page.id: page.body for page in tree}[child.id] == "<p>Run it twice.</p>"

    await client.add_labels(child.id, ["alpha", "beta"])
    assert sorted(label.name for label in await client.labels(child.id)) == ["alpha", "beta"]
    await client.remove_label(child.id, "alpha")
    assert [label.name for label in await client.labels(child.id)] == ["beta"]

    first = await client.set_property(child.id, "mdsync", {"path": "install.md", "hash": "a"})
    assert first.version == 1
    second = await client.set_property(child.id, "mdsync", {"path": "install.md", "hash": "b"})
    assert second.version == 2 and second.id == first.id
    read = await client.get_property(child.id, "mdsync")
    assert read is not None and read.value == {"path": "install.md", "hash": "b"} and read.version == 2

    attachment = await client.upload_attachment(child.id, "diagram.png", PNG, media_type="image/png")
    assert attachment.version == 1 and attachment.comment == attachment_comment(PNG)
    newer = await client.upload_attachment(child.id, "diagram.png", PNG2, media_type="image/png",
                                           existing=attachment)
    assert newer.id == attachment.id and newer.version == 2
    files = await client.attachments(child.id)
    assert [(f.title, f.version, f.file_size) for f in files] == [("diagram.png", 2, len(PNG2))]
    assert await client.download(files[0]) == PNG2

    assert sorted(await client.versions(child.id)) == [1, 2]
    assert (await client.current_user())["accountId"]

    await client.delete_attachment(files[0].id)
    assert await client.attachments(child.id) == []
    await client.delete_page(child.id)
    await client.delete_page(top.id)
    assert await client.find_page(space.id, child_title) is None
    remaining = {page.id for page in await client.pages_in_space(space.id)}
    assert top.id not in remaining and child.id not in remaining


@pytest.mark.parametrize("path", ("token", "oauth", "maton-connection"))
def test_realistic_sequence_keeps_the_openapi_contract(sb: RunningSandbox, path: str) -> None:
    contract = Contract()

    async def scenario() -> None:
        async with connected(sb, path, hooks={"response": [contract]}) as client:
            await realistic_sequence(client)

    run(scenario())
    assert contract.violations == []
    # The hook really saw the v2 and v1 traffic (a hook that checks nothing must not pass).
    assert any(" /wiki/api/v2/pages " in f" {line} " for line in contract.checked)
    assert any(line.startswith("POST /wiki/rest/api/content/") for line in contract.checked)
    assert len(contract.checked) >= 25


def test_contract_hook_fails_the_call_on_a_violation(sb: RunningSandbox) -> None:
    """The contract hook is able to fail a test: an undocumented route through the client is caught."""
    contract = Contract()

    async def scenario() -> None:
        async with connected(sb, "token", hooks={"response": [contract]}) as client:
            await client.request("GET", "/api/v2/no-such-collection", what="probe")

    with pytest.raises(ContractError):
        run(scenario())
    assert contract.violations


# -- 4. pagination ----------------------------------------------------------------------------


def test_pagination_lists_every_page_in_ceil_n_over_250_requests(sb: RunningSandbox) -> None:
    store = sb.store
    space = store.ensure_space("MANY")
    sections = []
    for s in range(10):
        section = store.create_content("page", space_id=space.id, title=f"Section {s}", body="<p>x</p>",
                                       parent_id=space.homepage_id)
        sections.append(section)
        for c in range(59):
            store.create_content("page", space_id=space.id, title=f"Section {s} page {c}", body="<p>x</p>",
                                 parent_id=section.id)
    total = len(store.contents(PAGE, space_ids=[space.id], statuses=["current"]))
    assert total == 601  # the home page + 600
    admin = httpx.Client(base_url=sb.url, auth=(EMAIL, SECRET), timeout=15)

    def listing_requests() -> tuple[int, int]:
        log = admin.get("/_sandbox/stats").json()["log"]
        listings = sum(1 for entry in log if entry["method"] == "GET"
                       and entry["path"] == f"/wiki/api/v2/spaces/{space.id}/pages")
        lookups = sum(1 for entry in log if entry["method"] == "GET" and entry["path"] == "/wiki/api/v2/spaces")
        return listings, lookups

    async def scenario() -> tuple[list[Page], list[Page], list[Page], int]:
        async with connected(sb, "token") as client:
            found = await client.space("MANY")
            everything = await client.pages_in_space(found.id)
            after_first = client.requests
            whole = await client.page_tree(found.id, str(space.homepage_id), bodies=True)
            one = await client.page_tree(found.id, str(sections[3].id))
            return everything, whole, one, after_first

    try:
        assert admin.delete("/_sandbox/stats").status_code == 200
        everything, whole, one, after_first = run(scenario())
        expected = math.ceil(total / 250)
        assert after_first == 1 + expected
        listings, lookups = listing_requests()
        assert (listings, lookups) == (3 * expected, 1)
    finally:
        admin.close()
    assert len(everything) == total and len({page.id for page in everything}) == total
    assert len(whole) == total and all(page.body == "<p>x</p>" for page in whole if page.title != "MANY Home")
    assert len(one) == 60 and {page.title for page in one} == {"Section 3"} | {f"Section 3 page {c}"
                                                                              for c in range(59)}


def test_pagination_through_a_gateway_follows_next_links(sb: RunningSandbox) -> None:
    space = sb.store.ensure_space("GATEPAGES")
    for n in range(260):
        sb.store.create_content("page", space_id=space.id, title=f"Gate page {n}", body="<p>x</p>",
                                parent_id=space.homepage_id)
    recorder = Recorder()

    async def scenario() -> list[Page]:
        async with connected(sb, "oauth", hooks=recorder.hooks()) as client:
            return await client.pages_in_space(str(space.id))

    pages = run(scenario())
    assert len(pages) == 261
    listings = [r for r in recorder.requests if r.url.path.endswith(f"/spaces/{space.id}/pages")]
    assert len(listings) == 2
    assert all(r.url.path.startswith(f"/ex/confluence/{sb.store.cloud_id}/wiki/") for r in listings)


# -- 5. faults --------------------------------------------------------------------------------


async def busy_workload(client: ConfluenceClient, tag: str) -> dict[str, Any]:
    """Creates, updates, reads, labels, a property and a file; returns what was written."""
    space = await client.space("DOCS")
    titles = [f"{tag} {n}" for n in range(3)]
    pages = [await client.create_page(space.id, title, f"<p>{title} v1</p>", None) for title in titles]
    updated = [await client.update_page(page, title=page.title, body=f"<p>{page.title} v2</p>")
               for page in pages]
    for page in updated:
        again = await client.get_page(page.id)
        assert again.version.number == 2 and again.body == f"<p>{page.title} v2</p>"
    await client.add_labels(updated[0].id, ["storm"])
    await client.set_property(updated[0].id, "mdsync", {"n": 1})
    attachment = await client.upload_attachment(updated[0].id, "storm.bin", PNG)
    listed = await client.pages_in_space(space.id)
    assert set(titles) <= {page.title for page in listed}
    return {"space": space, "titles": titles, "pages": updated, "attachment": attachment}


def check_workload_state(sb: RunningSandbox, written: dict[str, Any]) -> None:
    space_id = written["space"].id
    for title in written["titles"]:
        matches = stored_titled(sb, space_id, title)
        assert len(matches) == 1, f"{title}: {len(matches)} pages"
        assert matches[0].version == 2 and matches[0].body == f"<p>{title} v2</p>"
    first = int(written["pages"][0].id)
    assert [label.name for label in sb.store.labels(first)] == ["storm"]
    assert [(p.key, p.value) for p in sb.store.properties(first, PAGE)] == [("mdsync", {"n": 1})]
    files = sb.store.attachments(first)
    assert [(f.title, f.version) for f in files] == [("storm.bin", 1)]


@pytest.mark.parametrize("fault", ("rate_limit_share", "unavailable_share", "drop_share"))
def test_requests_succeed_through_a_fault_storm(sb: RunningSandbox, fault: str) -> None:
    recorder = Recorder()
    sb.box.faults.update({fault: 0.5, "seed": 11, "retry_after": 0})
    before = sb.box.stats.requests

    async def scenario() -> tuple[dict[str, Any], int]:
        async with connected(sb, "token", retry=fast(attempts=15), hooks=recorder.hooks()) as client:
            written = await busy_workload(client, unique(f"Storm {fault}"))
            return written, client.requests

    written, sent = run(scenario())
    sb.box.faults.update(NO_FAULTS)
    check_workload_state(sb, written)
    # The storm really happened.
    if fault == "rate_limit_share":
        assert recorder.statuses.count(429) >= 5
    elif fault == "unavailable_share":
        assert recorder.statuses.count(503) >= 5
    else:
        # Dropped requests never reach the sandbox's counters.
        assert sent - (sb.box.stats.requests - before) >= 5


# Confluence stores this differently from how it was sent (macro ids, schema version, "<br />"):
# a lost answer must still be recognised as our own write.
RESERIALISED = ('<ac:structured-macro ac:name="info"><ac:rich-text-body><p>note<br/>two</p>'
                '</ac:rich-text-body></ac:structured-macro>')


@pytest.mark.parametrize("lost, body", [(1, "<p>once</p>"), (3, "<p>once</p>"), (1, RESERIALISED)])
def test_lost_response_on_create_makes_exactly_one_page(sb: RunningSandbox, lost: int, body: str) -> None:
    recorder = Recorder()
    space_id = str(space_of(sb).id)
    title = unique("Lost create")

    async def scenario() -> Page:
        async with connected(sb, "token", hooks=recorder.hooks()) as client:
            await client.open()
            fault_first(sb, recorder, lost)
            return await client.create_page(space_id, title, body, None)

    page = run(scenario())
    assert page.title == title and page.version.number == 1
    matches = stored_titled(sb, space_id, title)
    assert [str(m.id) for m in matches] == [page.id]
    assert ("ac:macro-id" in matches[0].body) == (body == RESERIALISED)
    assert recorder.count("POST", "/wiki/api/v2/pages") == 1
    assert looked_up(recorder) >= 1


@pytest.mark.parametrize("under_same_parent", (False, True))
def test_failed_create_does_not_adopt_an_existing_page_with_that_title(sb: RunningSandbox,
                                                                      under_same_parent: bool) -> None:
    """A 503 on create (nothing written) must not make the client return someone else's page.

    The page with the title existed before the call, so the create must fail with TitleTaken,
    not hand back the old page as if it had just been created (a sync would then overwrite it).
    """
    recorder = Recorder()
    space = space_of(sb)
    title = unique("Already here")
    section = sb.store.create_content("page", space_id=space.id, title=unique("Section"), body="")
    existing = sb.store.create_content("page", space_id=space.id, title=title, body="<p>theirs</p>",
                                       parent_id=section.id)
    parent = str(section.id) if under_same_parent else None

    async def scenario() -> Page:
        async with connected(sb, "token", hooks=recorder.hooks()) as client:
            await client.open()
            fault_first(sb, recorder, 1, "unavailable_share")
            return await client.create_page(str(space.id), title, "<p>mine</p>", parent)

    try:
        page = run(scenario())
    except TitleTaken as error:
        assert_no_secret(error)
    else:
        pytest.fail(f"create_page returned page {page.id} (existing page {existing.id}, body {page.body!r}, "
                    f"parent {page.parent_id}) as if it had created it; expected TitleTaken")
    assert recorder.statuses[0] == 503
    assert [m.body for m in stored_titled(sb, str(space.id), title)] == ["<p>theirs</p>"]


def test_lost_responses_at_random_never_duplicate_a_page(sb: RunningSandbox) -> None:
    space_id = str(space_of(sb).id)
    tag = unique("Flaky")
    titles = [f"{tag} {n}" for n in range(8)]
    parent = sb.store.create_content("page", space_id=int(space_id), title=f"{tag} parent", body="")
    recorder = Recorder()

    async def scenario() -> list[Page]:
        async with connected(sb, "token", retry=fast(attempts=15), hooks=recorder.hooks()) as client:
            sb.box.faults.update({"lost_response_share": 0.5, "seed": 5})
            made = []
            for n, title in enumerate(titles):
                made.append(await client.create_page(space_id, title, f"<p>{n}</p>",
                                                     str(parent.id) if n % 2 else None))
            return made

    made = run(scenario())
    sb.box.faults.update(NO_FAULTS)
    for n, (title, page) in enumerate(zip(titles, made)):
        matches = stored_titled(sb, space_id, title)
        assert [str(m.id) for m in matches] == [page.id], title
        assert matches[0].body == f"<p>{n}</p>"
        if n % 2:
            assert matches[0].parent_id == parent.id
    # Some creates really lost their answer and were recognised by a look-up, not repeated.
    assert looked_up(recorder) >= 2


@pytest.mark.parametrize("lost, body", [(1, "<p>v2</p>"), (2, "<p>v2</p>"), (1, RESERIALISED)])
def test_lost_response_on_update_writes_exactly_one_version(sb: RunningSandbox, lost: int, body: str) -> None:
    recorder = Recorder()
    space_id = str(space_of(sb).id)
    title = unique("Lost update")

    async def scenario() -> Page:
        async with connected(sb, "token", hooks=recorder.hooks()) as client:
            page = await client.create_page(space_id, title, "<p>v1</p>", None)
            fault_first(sb, recorder, lost)
            return await client.update_page(page, title=title, body=body, message="edit")

    page = run(scenario())
    stored = stored_titled(sb, space_id, title)[0]
    assert page.version.number == 2 and page.title == title
    assert stored.version == 2
    if body == RESERIALISED:
        assert "ac:macro-id" in stored.body and "note" in stored.body
    else:
        assert stored.body == body
    assert [v.version for v in sb.store.versions(stored.id)] == [1, 2]


def test_lost_responses_at_random_on_updates_give_one_version_each(sb: RunningSandbox) -> None:
    space_id = str(space_of(sb).id)
    title = unique("Flaky update")

    recorder = Recorder()

    async def scenario() -> Page:
        async with connected(sb, "token", retry=fast(attempts=15), hooks=recorder.hooks()) as client:
            page = await client.create_page(space_id, title, "<p>v1</p>", None)
            sb.box.faults.update({"lost_response_share": 0.5, "seed": 8})
            for n in range(2, 7):
                page = await client.update_page(page, title=title, body=f"<p>v{n}</p>", message=f"edit {n}")
            return page

    page = run(scenario())
    sb.box.faults.update(NO_FAULTS)
    stored = stored_titled(sb, space_id, title)[0]
    assert page.version.number == 6 and stored.version == 6 and stored.body == "<p>v6</p>"
    assert [(v.version, v.body) for v in sb.store.versions(stored.id)] == [(n, f"<p>v{n}</p>") for n in range(1, 7)]
    assert recorder.count("PUT", f"/pages/{stored.id}") > 5  # some PUTs were resent after a lost answer


def test_lost_response_on_upload_makes_one_attachment_with_one_version(sb: RunningSandbox) -> None:
    recorder = Recorder()
    page = sb.store.create_content("page", space_id=space_of(sb).id, title=unique("Files"), body="")

    async def scenario() -> Any:
        async with connected(sb, "token", hooks=recorder.hooks()) as client:
            await client.open()
            fault_first(sb, recorder, 1)
            return await client.upload_attachment(str(page.id), "photo.png", PNG, media_type="image/png")

    attachment = run(scenario())
    stored = sb.store.attachments(page.id)
    assert [(a.title, a.version) for a in stored] == [("photo.png", 1)]
    assert attachment.id == f"att{stored[0].id}" and attachment.version == 1
    assert sb.store.attachment_data(stored[0].id) == PNG
    assert recorder.count("POST", "/child/attachment") == 1
    assert recorder.count("GET", f"/pages/{page.id}/attachments") >= 1  # it checked before trying again


def test_lost_response_on_new_attachment_version_adds_one_version(sb: RunningSandbox) -> None:
    recorder = Recorder()
    page = sb.store.create_content("page", space_id=space_of(sb).id, title=unique("Files v2"), body="")

    async def scenario() -> Any:
        async with connected(sb, "token", hooks=recorder.hooks()) as client:
            first = await client.upload_attachment(str(page.id), "photo.png", PNG, media_type="image/png")
            fault_first(sb, recorder, 1)
            return await client.upload_attachment(str(page.id), "photo.png", PNG2, media_type="image/png",
                                                  existing=first)

    attachment = run(scenario())
    stored = sb.store.attachments(page.id)
    assert [(a.title, a.version) for a in stored] == [("photo.png", 2)]
    assert attachment.version == 2
    assert sb.store.attachment_data(stored[0].id) == PNG2


def test_retry_after_is_honoured(sb: RunningSandbox) -> None:
    seen: list[int] = []

    async def first_only(response: httpx.Response) -> None:
        seen.append(response.status_code)
        if response.status_code == 429:
            sb.box.faults.update({"rate_limit_share": 0})  # only the first request is refused

    sb.box.faults.update({"rate_limit_share": 1.0, "retry_after": 1})

    async def scenario() -> float:
        async with connected(sb, "token", retry=fast(max_delay=5), hooks={"response": [first_only]}) as client:
            started = time.monotonic()
            await client.current_user()
            return time.monotonic() - started

    elapsed = run(scenario())
    assert seen == [429, 200]
    assert 0.95 <= elapsed < 3


@pytest.mark.parametrize("call", ("read", "create"))
def test_rate_limited_beyond_the_retry_budget(sb: RunningSandbox, call: str) -> None:
    space_id = str(space_of(sb).id)
    title = unique("Never")
    sb.box.faults.update({"rate_limit_share": 1.0, "retry_after": 0})
    recorder = Recorder()

    async def scenario() -> None:
        async with connected(sb, "token", retry=fast(attempts=3), hooks=recorder.hooks()) as client:
            if call == "read":
                await client.space("DOCS")
            else:
                await client.create_page(space_id, title, "<p>x</p>", None)

    with pytest.raises(RateLimited) as caught:
        run(scenario())
    message = str(caught.value).lower()
    assert "rate" in message and "concurrency" in message
    assert recorder.statuses == [429, 429, 429]
    assert_no_secret(caught.value)
    sb.box.faults.update(NO_FAULTS)
    assert stored_titled(sb, space_id, title) == []


@pytest.mark.parametrize("path", ("token", "oauth"))
def test_connection_refused_is_unreachable_with_advice(path: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    config = {"token": ConfluenceConfig(url=url, auth="token", email=EMAIL, token=SECRET),
              "oauth": ConfluenceConfig(url=url, auth="bearer", token=SECRET, gateway=url)}[path]

    async def scenario() -> None:
        client = ConfluenceClient(config, retry=fast(attempts=3))
        try:
            await client.space("DOCS")
        finally:
            await client.close()

    started = time.monotonic()
    with pytest.raises(Unreachable) as caught:
        run(scenario())
    assert time.monotonic() - started < 5
    message = str(caught.value).lower()
    assert "network" in message or "confluence.url" in message
    assert message.rstrip().endswith(".")
    assert_no_secret(caught.value)


# -- 6. rate and concurrency caps ----------------------------------------------------------------


def test_rate_limit_in_config_spaces_requests(sb: RunningSandbox) -> None:
    async def timed(rate_limit: float | None) -> float:
        async with connected(sb, "token", rate_limit=rate_limit) as client:
            await client.open()
            started = time.monotonic()
            await asyncio.gather(*(client.current_user() for _ in range(20)))
            return time.monotonic() - started

    assert run(timed(None)) < 1.5  # without a cap the same work is quick
    assert run(timed(10)) >= 1.8


def test_maton_rate_limit_below_its_cap_never_sees_429() -> None:
    recorder = Recorder()
    with serve() as running:  # Maton's default: 10 requests per second
        async def scenario() -> list[dict[str, Any]]:
            async with connected(running, "maton", rate_limit=8, hooks=recorder.hooks()) as client:
                await client.open()
                return await asyncio.gather(*(client.current_user() for _ in range(30)))

        users = run(scenario())
    assert len(users) == 30 and all(user["accountId"] for user in users)
    assert 429 not in recorder.statuses
    assert len(recorder.requests) == 31  # discovery + 30 reads, no retries


def test_concurrency_cap_bounds_requests_in_flight(sb: RunningSandbox) -> None:
    sb.box.faults.update({"latency_ms": 100})
    recorder = Recorder()

    async def scenario() -> float:
        async with connected(sb, "token", concurrency=2, hooks=recorder.hooks()) as client:
            started = time.monotonic()
            await asyncio.gather(*(client.current_user() for _ in range(8)))
            return time.monotonic() - started

    elapsed = run(scenario())
    assert recorder.peak == 2
    assert elapsed >= 0.35  # 8 requests, 2 at a time, 100 ms each


# -- 7. error messages ------------------------------------------------------------------------


def test_unknown_space_key_names_the_key_and_the_setting(sb: RunningSandbox) -> None:
    async def scenario() -> None:
        async with connected(sb, "token") as client:
            await client.space("NOSUCHKEY")

    with pytest.raises(NotFound) as caught:
        run(scenario())
    message = str(caught.value)
    assert "NOSUCHKEY" in message and "'space' in mdsync.yaml" in message
    assert_no_secret(caught.value)


def test_missing_parent_on_create_is_not_found(sb: RunningSandbox) -> None:
    space_id = str(space_of(sb).id)
    title = unique("Orphan")

    async def scenario() -> None:
        async with connected(sb, "token") as client:
            await client.create_page(space_id, title, "<p>x</p>", "987654321")

    with pytest.raises(NotFound) as caught:
        run(scenario())
    assert "parent" in str(caught.value).lower()
    assert stored_titled(sb, space_id, title) == []
    assert_no_secret(caught.value)


def test_title_already_used_is_title_taken(sb: RunningSandbox) -> None:
    space_id = str(space_of(sb).id)
    title = unique("Twice")
    other = unique("Other")

    async def create_twice() -> None:
        async with connected(sb, "token") as client:
            await client.create_page(space_id, title, "<p>1</p>", None)
            await client.create_page(space_id, title.upper(), "<p>2</p>", None)

    with pytest.raises(TitleTaken) as caught:
        run(create_twice())
    assert "title" in str(caught.value).lower()
    assert_no_secret(caught.value)
    assert len(stored_titled(sb, space_id, title)) == 1

    async def rename_onto() -> None:
        async with connected(sb, "token") as client:
            page = await client.create_page(space_id, other, "<p>o</p>", None)
            await client.update_page(page, title=title, body="<p>o</p>")

    with pytest.raises(TitleTaken):
        run(rename_onto())


def test_stale_version_with_distinct_numbers_is_version_conflict(sb: RunningSandbox) -> None:
    space_id = str(space_of(sb).id)
    title = unique("Stale")

    async def scenario() -> None:
        async with connected(sb, "token") as client:
            v1 = await client.create_page(space_id, title, "<p>1</p>", None)
            v2 = await client.update_page(v1, title=title, body="<p>2</p>")
            await client.update_page(v2, title=title, body="<p>3</p>")
            await client.update_page(v1, title=title, body="<p>stale</p>")

    with pytest.raises(VersionConflict) as caught:
        run(scenario())
    error = caught.value
    assert (error.current, error.provided) == (3, 2)
    assert "3" in str(error) and "2" in str(error)
    assert_no_secret(error)
    assert stored_titled(sb, space_id, title)[0].body == "<p>3</p>"


def test_updating_the_same_page_object_twice_is_version_conflict(sb: RunningSandbox) -> None:
    """The second update starts from a stale version; its body must not be dropped silently."""
    space_id = str(space_of(sb).id)
    title = unique("Same object")

    async def scenario() -> Page:
        async with connected(sb, "token") as client:
            page = await client.create_page(space_id, title, "<p>base</p>", None)
            await client.update_page(page, title=title, body="<p>first edit</p>")
            return await client.update_page(page, title=title, body="<p>second edit</p>")

    try:
        second = run(scenario())
    except VersionConflict as conflict:
        error = conflict
    else:
        pytest.fail(f"the stale second update returned version {second.version.number} with body "
                    f"{second.body!r}: '<p>second edit</p>' was dropped without an error")
    assert (error.current, error.provided) == (2, 2)
    assert "2" in str(error)
    assert_no_secret(error)
    assert stored_titled(sb, space_id, title)[0].body == "<p>first edit</p>"


def test_malformed_body_is_body_rejected_with_confluences_detail(sb: RunningSandbox) -> None:
    space_id = str(space_of(sb).id)
    title = unique("Broken")

    async def on_create() -> None:
        async with connected(sb, "token") as client:
            await client.create_page(space_id, title, "<p>unclosed <b>bold</p>", None)

    with pytest.raises(BodyRejected) as caught:
        run(on_create())
    assert "Error parsing xhtml" in str(caught.value)
    assert_no_secret(caught.value)
    assert stored_titled(sb, space_id, title) == []

    async def on_update() -> None:
        async with connected(sb, "oauth") as client:
            page = await client.create_page(space_id, title, "<p>fine</p>", None)
            await client.update_page(page, title=title, body="<ac:structured-macro>")

    with pytest.raises(BodyRejected) as caught:
        run(on_update())
    assert "Error parsing xhtml" in str(caught.value)
    assert stored_titled(sb, space_id, title)[0].version == 1


# -- 8. secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_connection_and_config_reprs_hide_the_token(sb: RunningSandbox, path: str) -> None:
    async def scenario() -> tuple[str, str, str]:
        async with connected(sb, path) as client:
            connection = await client.open()
            assert connection.headers["Authorization"].endswith(
                SECRET if path not in ("token", "scoped") else
                base64.b64encode(f"{EMAIL}:{SECRET}".encode()).decode())
            return repr(client.connection), str(client.connection), repr(client.config)

    for text in run(scenario()):
        assert not secrets_in(text), text


def test_no_exception_from_any_failure_path_contains_the_token(sb: RunningSandbox) -> None:
    """One sweep over every failure above, each on every auth path it applies to."""
    space_id = str(space_of(sb).id)
    caught: list[BaseException] = []

    async def attempt(call: Callable[[ConfluenceClient], Awaitable[Any]], path: str, **options: Any) -> None:
        async with connected(sb, path, **options) as client:
            try:
                await call(client)
            except ConfluenceError as error:
                caught.append(error)
            else:
                raise AssertionError(f"{path}: expected a ConfluenceError")

    async def stale(client: ConfluenceClient) -> None:
        title = unique("Sweep stale")
        v1 = await client.create_page(space_id, title, "<p>1</p>", None)
        v2 = await client.update_page(v1, title=title, body="<p>2</p>")
        await client.update_page(v2, title=title, body="<p>3</p>")
        await client.update_page(v1, title=title, body="<p>x</p>")

    async def taken(client: ConfluenceClient) -> None:
        title = unique("Sweep taken")
        await client.create_page(space_id, title, "<p>1</p>", None)
        await client.create_page(space_id, title, "<p>1</p>", None)

    async def scenario() -> None:
        for path in PATHS:
            await attempt(lambda c: c.current_user(), path, token=WRONG)
            await attempt(lambda c: c.space("NOPE"), path)
            await attempt(lambda c: c.create_page(space_id, unique("P"), "<p>x</p>", "987654321"), path)
            await attempt(lambda c: c.create_page(space_id, unique("B"), "<p>x", None), path)
            await attempt(taken, path)
            await attempt(stale, path)
        await attempt(lambda c: c.current_user(), "maton", connection="nope")

    run(scenario())
    assert len(caught) == 6 * len(PATHS) + 1
    assert {type(e) for e in caught} >= {AuthenticationFailed, NotFound, BodyRejected, TitleTaken,
                                         VersionConflict, GatewayError}
    for error in caught:
        assert_no_secret(error)


def test_a_write_refused_for_a_missing_permission_is_permission_denied(sb: RunningSandbox) -> None:
    """v2 answers a missing add/edit permission with a 404 (Atlassian's OpenAPI document); the
    user is told it is a permission, not that the page is gone."""
    refused: list[BaseException] = []

    async def scenario() -> None:
        async with connected(sb, "token") as client:
            space = await client.space("DOCS")
            page = await client.create_page(space.id, f"Locked {uuid.uuid4().hex[:8]}", "<p>x</p>", space.homepage_id)
            sb.box.read_only_spaces = {"DOCS"}
            try:
                await client.update_page(page, title=page.title, body="<p>y</p>")
            except PermissionDenied as error:
                refused.append(error)
            finally:
                sb.box.read_only_spaces = set()

    run(scenario())
    [error] = refused
    assert "permission" in str(error) and "space admin" in str(error)
    assert_no_secret(error)
