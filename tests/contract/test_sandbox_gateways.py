"""Credentials and gateway forms of the sandbox, over real HTTP.

Three ways in, as Confluence Cloud has them:

* the site, ``/wiki/...``: Basic ``email:token`` only;
* api.atlassian.com, ``/ex/confluence/{cloudId}/wiki/...``: Bearer or Basic (scoped tokens);
* Maton, ``/confluence/ex/confluence/{cloudId}/wiki/...``: Bearer with the Maton key only,
  an optional ``Maton-Connection`` header and 10 requests per second.

Answers that Confluence itself gives go through ``contract_client`` (checked against
Atlassian's documents). Answers the gateways give on their own (401/404/400/429 in the
gateway's ``{"code", "message"}`` shape) are not Confluence answers, so they are read
with a plain client.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer
from mdsync.sandbox.store import PAGE
from tests.support.sandbox import RunningSandbox, contract_client, make_page, storage

BASIC = (DEFAULT_EMAIL, DEFAULT_TOKEN)
BEARER = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
GONE = "com.atlassian.confluence.api.service.exceptions.pagesmodes.GoneException"


# -- helpers ------------------------------------------------------------------------------


@contextmanager
def serve(**options: Any) -> Iterator[RunningSandbox]:
    box = create_sandbox(spaces=("DOCS",), **options)
    with BackgroundServer(box) as server:
        yield RunningSandbox(box, server)


def prefix_of(sandbox: RunningSandbox, form: str) -> str:
    cloud_id = sandbox.store.cloud_id
    return {"site": "", "atlassian": f"/ex/confluence/{cloud_id}",
            "maton": f"/confluence/ex/confluence/{cloud_id}"}[form]


def client_for(sandbox: RunningSandbox, form: str, **kwargs: Any) -> httpx.Client:
    """A validated client for one path form, with the credentials that form takes."""
    if form == "site":
        kwargs.setdefault("auth", BASIC)
    else:
        kwargs.setdefault("headers", BEARER)
    return contract_client(sandbox.url + prefix_of(sandbox, form), **kwargs)


def basic_header(email: str, token: str) -> dict[str, str]:
    raw = base64.b64encode(f"{email}:{token}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def docs_space(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/wiki/api/v2/spaces", params={"keys": "DOCS"})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


def assert_v2_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1
    error = errors[0]
    assert set(error) == {"status", "code", "title", "detail"}
    assert error["status"] == status
    return error


def assert_v1_error(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert body["reason"] == reason
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """One sandbox for this module's tests (overrides conftest's per-test one: starting and
    stopping a server per test would dominate the run time). Its Maton limit is off; the
    tests of that limit start their own sandboxes. Titles are made unique per test."""
    with serve(maton_per_second=0) as running:
        yield running


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:8]}"


# -- the site form ------------------------------------------------------------------------


def test_site_accepts_basic_email_and_token(sandbox: RunningSandbox) -> None:
    with client_for(sandbox, "site") as client:
        spaces = client.get("/wiki/api/v2/spaces")
        assert spaces.status_code == 200
        assert [space["key"] for space in spaces.json()["results"]] == ["DOCS"]
        user = client.get("/wiki/rest/api/user/current")
        assert user.status_code == 200
        assert user.json()["email"] == DEFAULT_EMAIL


def test_site_email_is_not_case_sensitive(sandbox: RunningSandbox) -> None:
    with contract_client(sandbox.url, auth=(DEFAULT_EMAIL.upper(), DEFAULT_TOKEN)) as client:
        assert client.get("/wiki/api/v2/spaces").status_code == 200
    with contract_client(sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN.upper())) as client:
        assert client.get("/wiki/api/v2/spaces").status_code == 401


BAD_BASIC = {
    "no credentials": None,
    "wrong token": (DEFAULT_EMAIL, "not-the-token"),
    "wrong email": ("someone.else@example.com", DEFAULT_TOKEN),
    "empty token": (DEFAULT_EMAIL, ""),
}


@pytest.mark.parametrize("auth", BAD_BASIC.values(), ids=BAD_BASIC.keys())
def test_site_v2_refuses_bad_credentials_in_the_v2_envelope(sandbox: RunningSandbox, auth: Any) -> None:
    with contract_client(sandbox.url, auth=auth) as client:
        response = client.get("/wiki/api/v2/spaces")
    error = assert_v2_error(response, 401)
    assert error["code"] == "UNAUTHORIZED"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("auth", BAD_BASIC.values(), ids=BAD_BASIC.keys())
def test_site_v1_refuses_bad_credentials_in_the_v1_envelope(sandbox: RunningSandbox, auth: Any) -> None:
    with contract_client(sandbox.url, auth=auth) as client:
        response = client.get("/wiki/rest/api/user/current")
    assert_v1_error(response, 401, "Unauthorized")
    assert "errors" not in response.json()
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_site_refuses_a_malformed_basic_header(sandbox: RunningSandbox) -> None:
    with contract_client(sandbox.url, headers={"Authorization": "Basic not base64 at all!"}) as client:
        response = client.get("/wiki/api/v2/spaces")
    assert_v2_error(response, 401)


@pytest.mark.parametrize("email, token", [("josé@example.com", DEFAULT_TOKEN), (DEFAULT_EMAIL, "tökén")],
                         ids=["non-ascii email", "non-ascii token"])
def test_site_refuses_non_ascii_credentials_with_401(sandbox: RunningSandbox, email: str, token: str) -> None:
    # httpx sends Basic credentials as UTF-8; a wrong credential is a 401, never a server error.
    with contract_client(sandbox.url, auth=(email, token)) as client:
        response = client.get("/wiki/api/v2/spaces")
    assert_v2_error(response, 401)


@pytest.mark.parametrize("path, v1", [("/wiki/api/v2/spaces", False), ("/wiki/rest/api/user/current", True)],
                         ids=["v2", "v1"])
def test_site_refuses_bearer_and_points_to_api_atlassian_com(sandbox: RunningSandbox, path: str, v1: bool) -> None:
    # Even the right token is refused as Bearer on the site: scoped tokens and OAuth need the gateway.
    with contract_client(sandbox.url, headers=BEARER) as client:
        response = client.get(path)
    if v1:
        message = assert_v1_error(response, 401, "Unauthorized")["message"]
    else:
        message = assert_v2_error(response, 401)["title"]
    assert "api.atlassian.com" in message


def test_tenant_info_gives_the_cloud_id_without_credentials(sandbox: RunningSandbox) -> None:
    response = httpx.get(f"{sandbox.url}/_edge/tenant_info")
    assert response.status_code == 200
    assert response.json() == {"cloudId": sandbox.store.cloud_id}
    uuid.UUID(sandbox.store.cloud_id)  # a real cloud id is a UUID


# -- api.atlassian.com --------------------------------------------------------------------


@pytest.mark.parametrize("headers", [BEARER, basic_header(*BASIC)], ids=["bearer", "basic scoped token"])
def test_atlassian_gateway_accepts_bearer_and_basic(sandbox: RunningSandbox, headers: dict[str, str]) -> None:
    with client_for(sandbox, "atlassian", headers=headers) as client:
        response = client.get("/wiki/api/v2/spaces")
        assert response.status_code == 200
        assert [space["key"] for space in response.json()["results"]] == ["DOCS"]
        # _links.base names the site, never the gateway.
        assert response.json()["_links"]["base"] == f"{sandbox.url}/wiki"
        assert client.get("/wiki/rest/api/user/current").status_code == 200


def test_atlassian_gateway_with_an_unknown_cloud_id_is_404(sandbox: RunningSandbox) -> None:
    other = str(uuid.uuid4())
    response = httpx.get(f"{sandbox.url}/ex/confluence/{other}/wiki/api/v2/spaces", headers=BEARER)
    assert response.status_code == 404
    assert other in response.json()["message"]
    # The right cloud id with the same credentials works, so it was the id that was refused.
    good = httpx.get(f"{sandbox.url}{prefix_of(sandbox, 'atlassian')}/wiki/api/v2/spaces", headers=BEARER)
    assert good.status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-the-token"},
    basic_header(DEFAULT_EMAIL, "not-the-token"),
    basic_header("someone.else@example.com", DEFAULT_TOKEN),
], ids=["none", "wrong bearer", "wrong basic token", "wrong basic email"])
def test_atlassian_gateway_refuses_bad_credentials(sandbox: RunningSandbox, headers: dict[str, str]) -> None:
    response = httpx.get(f"{sandbox.url}{prefix_of(sandbox, 'atlassian')}/wiki/api/v2/spaces", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == 401


@pytest.mark.parametrize("form, authorization", [
    ("atlassian", "Bearer tökén".encode()),
    ("atlassian", b"Basic " + base64.b64encode(f"josé@example.com:{DEFAULT_TOKEN}".encode())),
    ("maton", "Bearer tökén".encode()),
], ids=["atlassian bearer", "atlassian basic", "maton bearer"])
def test_gateway_refuses_non_ascii_credentials_with_401(sandbox: RunningSandbox, form: str,
                                                         authorization: bytes) -> None:
    url = f"{sandbox.url}{prefix_of(sandbox, form)}/wiki/api/v2/spaces"
    response = httpx.get(url, headers={"Authorization": authorization})
    assert response.status_code == 401


def test_atlassian_accessible_resources_lists_the_site(sandbox: RunningSandbox) -> None:
    response = httpx.get(f"{sandbox.url}/oauth/token/accessible-resources", headers=BEARER)
    assert response.status_code == 200
    resources = response.json()
    assert len(resources) == 1
    site = resources[0]
    assert site["id"] == sandbox.store.cloud_id
    assert site["url"] == sandbox.url
    assert isinstance(site["name"], str) and site["name"]
    assert "read:page:confluence" in site["scopes"] and "write:page:confluence" in site["scopes"]
    refused = httpx.get(f"{sandbox.url}/oauth/token/accessible-resources",
                        headers={"Authorization": "Bearer not-the-token"})
    assert refused.status_code == 401


@pytest.mark.parametrize("form", ["atlassian", "maton"])
def test_pages_are_the_same_through_site_and_gateway(sandbox: RunningSandbox, form: str) -> None:
    with client_for(sandbox, "site") as site, client_for(sandbox, form) as gateway:
        space = docs_space(site)
        gateway_title, site_title = unique("Made through the gateway"), unique("Made on the site")
        through_gateway = make_page(gateway, space, gateway_title, "<p>g</p>")
        through_site = make_page(site, space, site_title, "<p>s</p>")

        seen = site.get(f"/wiki/api/v2/pages/{through_gateway['id']}", params={"body-format": "storage"})
        assert seen.status_code == 200
        assert seen.json()["title"] == gateway_title
        assert seen.json()["body"]["storage"]["value"] == "<p>g</p>"

        seen = gateway.get(f"/wiki/api/v2/pages/{through_site['id']}", params={"body-format": "storage"})
        assert seen.status_code == 200
        assert seen.json()["title"] == site_title
        assert seen.json()["body"]["storage"]["value"] == "<p>s</p>"
    assert {page.title for page in sandbox.store.contents(PAGE)} >= {gateway_title, site_title}


@pytest.mark.parametrize("form", ["atlassian", "maton"])
def test_gateway_pagination_links_are_site_relative(sandbox: RunningSandbox, form: str) -> None:
    with client_for(sandbox, "site") as site, client_for(sandbox, form) as gateway:
        space = docs_space(site)
        created = {make_page(site, space, unique(f"Paged {n}"))["id"] for n in range(5)}
        expected = {page["id"] for page in site.get("/wiki/api/v2/pages", params={
            "space-id": space["id"], "limit": 250}).json()["results"]}
        assert created <= expected

        seen: list[str] = []
        response = gateway.get("/wiki/api/v2/pages", params={"space-id": space["id"], "limit": 2})
        hops = 0
        while True:
            assert response.status_code == 200, response.text
            seen += [page["id"] for page in response.json()["results"]]
            next_link = response.json()["_links"].get("next")
            if next_link is None:
                assert "next" not in response.links
                break
            assert next_link.startswith("/wiki/api/v2/pages?")
            assert "/ex/confluence/" not in next_link and sandbox.store.cloud_id not in next_link
            assert response.links["next"]["url"] == next_link
            hops += 1
            # The gateway base + the site-relative link, as a client must follow it.
            response = gateway.get(next_link)
        assert hops == (len(expected) + 1) // 2 - 1
        assert len(seen) == len(set(seen))
        assert set(seen) == expected


@pytest.mark.parametrize("form", ["site", "atlassian", "maton"])
def test_v1_attachment_upload_and_download_through_every_form(sandbox: RunningSandbox, form: str) -> None:
    data = bytes(range(256)) * 8
    name = "Plan übersicht 1.bin"
    prefix = prefix_of(sandbox, form)
    with client_for(sandbox, "site") as site, client_for(sandbox, form) as client:
        page = make_page(site, docs_space(site), unique("With a file"))
        upload = client.post(f"/wiki/rest/api/content/{page['id']}/child/attachment",
                             files={"file": (name, data, "application/octet-stream")},
                             data={"minorEdit": "true"}, headers={"X-Atlassian-Token": "no-check"})
        assert upload.status_code == 200, upload.text
        attachment = upload.json()["results"][0]
        assert attachment["title"] == name
        assert attachment["extensions"]["fileSize"] == len(data)

        path = f"/wiki/rest/api/content/{page['id']}/child/attachment/{attachment['id']}/download"
        redirect = client.get(path)
        assert redirect.status_code == 302
        location = redirect.headers["Location"]
        # Through a gateway the file stays behind the same gateway (and the same credentials).
        assert location.startswith(f"{prefix}/wiki/download/attachments/{page['id']}/")
        fetched = client.get(path, follow_redirects=True)
        assert fetched.status_code == 200
        assert fetched.content == data
        assert [hop.status_code for hop in fetched.history] == [302]
    if form != "site":
        # Without the gateway's credentials the redirect target is refused too.
        assert httpx.get(sandbox.url + location).status_code == 401


# -- Maton --------------------------------------------------------------------------------


def test_maton_takes_the_key_as_bearer_and_refuses_basic(sandbox: RunningSandbox) -> None:
    base = f"{sandbox.url}{prefix_of(sandbox, 'maton')}/wiki/api/v2/spaces"
    with client_for(sandbox, "maton") as client:
        assert client.get("/wiki/api/v2/spaces").status_code == 200
    basic = httpx.get(base, headers=basic_header(*BASIC))
    assert basic.status_code == 401
    assert basic.json()["code"] == 401
    assert httpx.get(base).status_code == 401
    assert httpx.get(base, headers={"Authorization": "Bearer not-the-key"}).status_code == 401


def test_maton_accessible_resources_lists_the_site(sandbox: RunningSandbox) -> None:
    response = httpx.get(f"{sandbox.url}/confluence/oauth/token/accessible-resources", headers=BEARER)
    assert response.status_code == 200
    [site] = response.json()
    assert site["id"] == sandbox.store.cloud_id
    assert site["url"] == sandbox.url
    assert site["name"] and site["scopes"]
    assert httpx.get(f"{sandbox.url}/confluence/oauth/token/accessible-resources",
                     headers=basic_header(*BASIC)).status_code == 401


def test_maton_connection_header(sandbox: RunningSandbox) -> None:
    known = {**BEARER, "Maton-Connection": sandbox.store.connection_id}
    with client_for(sandbox, "maton", headers=known) as client:
        assert client.get("/wiki/api/v2/spaces").status_code == 200
    unknown = {**BEARER, "Maton-Connection": str(uuid.uuid4())}
    response = httpx.get(f"{sandbox.url}{prefix_of(sandbox, 'maton')}/wiki/api/v2/spaces", headers=unknown)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400
    assert "create" in body["message"].lower() and "connection" in body["message"].lower()


def _burst(url: str, count: int) -> list[httpx.Response]:
    with httpx.Client(headers=BEARER) as client:
        return [client.get(url) for _ in range(count)]


def test_maton_allows_ten_requests_per_second() -> None:
    with serve() as sandbox:  # the default: 10 per second
        url = f"{sandbox.url}{prefix_of(sandbox, 'maton')}/wiki/api/v2/spaces"
        started = time.monotonic()
        responses = _burst(url, 15)
        assert time.monotonic() - started < 1.0, "the burst was too slow to test a per-second limit"
        statuses = [response.status_code for response in responses]
        assert statuses[:10] == [200] * 10
        assert statuses[10:] == [429] * 5
        refused = responses[-1]
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["code"] == 429
        # The Atlassian gateway and the site are not Maton: no such limit there.
        site = [response.status_code for response in _burst(
            f"{sandbox.url}{prefix_of(sandbox, 'atlassian')}/wiki/api/v2/spaces", 12)]
        assert site == [200] * 12
        # After Retry-After the window has room again.
        time.sleep(int(refused.headers["Retry-After"]))
        assert httpx.get(url, headers=BEARER).status_code == 200


def test_maton_limit_can_be_switched_off() -> None:
    with serve(maton_per_second=0) as sandbox:
        url = f"{sandbox.url}{prefix_of(sandbox, 'maton')}/wiki/api/v2/spaces"
        assert [response.status_code for response in _burst(url, 15)] == [200] * 15


def test_maton_limit_follows_its_setting() -> None:
    with serve(maton_per_second=3) as sandbox:
        url = f"{sandbox.url}{prefix_of(sandbox, 'maton')}/wiki/api/v2/spaces"
        assert [response.status_code for response in _burst(url, 5)] == [200, 200, 200, 429, 429]


# -- v1 page CRUD is gone -----------------------------------------------------------------


@pytest.mark.parametrize("form", ["site", "atlassian", "maton"])
def test_v1_page_crud_is_gone_on_every_form(sandbox: RunningSandbox, form: str) -> None:
    with client_for(sandbox, "site") as site, client_for(sandbox, form) as client:
        space = docs_space(site)
        title = unique("Still here")
        page = make_page(site, space, title)
        before = len(sandbox.store.contents(PAGE))
        responses = [
            client.get(f"/wiki/rest/api/content/{page['id']}"),
            client.get("/wiki/rest/api/content", params={"spaceKey": "DOCS", "title": title}),
            client.post("/wiki/rest/api/content", json={
                "type": "page", "title": unique("Through v1"), "space": {"key": "DOCS"},
                "body": {"storage": storage("<p>v1</p>")}}),
        ]
        for response in responses:
            body = assert_v1_error(response, 410, "Gone")
            assert body["message"].startswith(GONE)
            assert "This deprecated endpoint has been removed." in body["message"]
        # The v2 route still serves the same page, and v1 created nothing.
        assert client.get(f"/wiki/api/v2/pages/{page['id']}").status_code == 200
    assert len(sandbox.store.contents(PAGE)) == before
