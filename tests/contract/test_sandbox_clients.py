"""What other Confluence clients meet in the sandbox: collection routes with a trailing slash,
attachment properties, inline comments, v1 attachment updates, user search, content states,
and the 404 v2 answers for a missing write permission.

Every exchange through ``api`` (tests/conftest.py) is checked against Atlassian's OpenAPI
documents.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
from mdsync.sandbox.store import ACCOUNT_ID
from tests.support.openapi import check_exchange
from tests.support.sandbox import make_page, storage, update_page

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
XSRF = {"X-Atlassian-Token": "no-check"}


def error_title(response: httpx.Response) -> str:
    return response.json()["errors"][0]["title"]


def stored_body(api: httpx.Client, page_id: str) -> dict[str, Any]:
    return api.get(f"{V2}/pages/{page_id}", params={"body-format": "storage"}).json()


# -- trailing slashes ---------------------------------------------------------------------


def without_slash(response: httpx.Response) -> httpx.Response:
    """The same exchange as if sent to the path without its trailing slash (the form the
    OpenAPI document has), to validate the answer against it."""
    sent = response.request
    url = sent.url.copy_with(path=sent.url.path.rstrip("/"))
    request = httpx.Request(sent.method, url, headers=sent.headers, content=sent.content)
    return httpx.Response(response.status_code, headers=response.headers, content=response.content, request=request)


@pytest.fixture
def plain(sandbox: Any) -> Any:
    """A client whose exchanges are not checked as they go (the documents have no slash forms)."""
    with httpx.Client(base_url=sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN)) as client:
        yield client


def test_collection_routes_with_a_trailing_slash_are_served_not_redirected(
        plain: httpx.Client, api: httpx.Client, space: dict[str, Any]) -> None:
    # A redirect would be built from the Host header, which a proxy in front may have changed.
    headers = {"Host": "somewhere-else.example"}
    created = plain.post(f"{V2}/pages/", headers=headers, json={
        "spaceId": space["id"], "status": "current", "title": "Slashed", "body": storage("<p>s</p>")})
    assert created.status_code == 200 and "location" not in created.headers
    check_exchange(without_slash(created))
    page_id = created.json()["id"]
    assert api.get(f"{V2}/pages/{page_id}").json()["title"] == "Slashed"
    for path in (f"{V2}/spaces/", f"{V2}/pages/", f"{V2}/pages/{page_id}/", f"{V2}/spaces/{space['id']}/pages/",
                 f"{V2}/attachments/"):
        response = plain.get(path, headers=headers)
        assert response.status_code == 200, path
        check_exchange(without_slash(response))
    folder = plain.post(f"{V2}/folders/", json={"spaceId": space["id"], "title": "Slashed folder"})
    assert folder.status_code == 200 and folder.json()["type"] == "folder"


def test_a_trailing_slash_is_served_through_the_gateway_too(plain: httpx.Client, sandbox: Any) -> None:
    cloud_id = sandbox.store.cloud_id
    response = plain.get(f"/ex/confluence/{cloud_id}{V2}/spaces/", params={"keys": "DOCS"})
    assert response.status_code == 200 and response.json()["results"][0]["key"] == "DOCS"


# -- attachment properties ----------------------------------------------------------------


def upload(api: httpx.Client, page_id: str, name: str, data: bytes = b"data",
           media_type: str = "text/plain") -> dict[str, Any]:
    response = api.post(f"{V1}/content/{page_id}/child/attachment", headers=XSRF,
                        files={"file": (name, data, media_type)}, data={"minorEdit": "true"})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


def test_attachment_properties_crud_and_versioning(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Has a file")
    attachment = upload(api, page["id"], "notes.txt")
    base = f"{V2}/attachments/{attachment['id']}/properties"
    created = api.post(base, json={"key": "mdsync.hash", "value": {"sha": "abc"}})
    assert created.status_code == 200
    prop = created.json()
    assert prop["key"] == "mdsync.hash" and prop["value"] == {"sha": "abc"} and prop["version"]["number"] == 1
    assert api.post(base, json={"key": "mdsync.hash", "value": 1}).status_code == 409
    api.post(base, json={"key": "other", "value": 2})
    assert [item["key"] for item in api.get(base).json()["results"]] == ["mdsync.hash", "other"]
    assert [item["id"] for item in api.get(base, params={"key": "mdsync.hash"}).json()["results"]] == [prop["id"]]
    numeric = attachment["id"].removeprefix("att")  # the document allows the id with or without att
    assert api.get(f"{V2}/attachments/{numeric}/properties/{prop['id']}").json()["value"] == {"sha": "abc"}

    stale = api.put(f"{base}/{prop['id']}", json={"key": "mdsync.hash", "value": 3, "version": {"number": 1}})
    assert stale.status_code == 409
    updated = api.put(f"{base}/{prop['id']}", json={"key": "mdsync.hash", "value": {"sha": "def"},
                                                    "version": {"number": 2}})
    assert updated.status_code == 200 and updated.json()["version"]["number"] == 2
    assert api.get(f"{base}/{prop['id']}").json()["value"] == {"sha": "def"}
    assert api.delete(f"{base}/{prop['id']}").status_code == 204
    assert api.get(f"{base}/{prop['id']}").status_code == 404
    # The page's own properties are another set.
    assert api.get(f"{V2}/pages/{page['id']}/properties").json()["results"] == []


def test_attachment_properties_of_an_unknown_attachment_or_of_a_page_are_not_found(
        api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Page with a property")
    page_prop = api.post(f"{V2}/pages/{page['id']}/properties", json={"key": "k", "value": 1}).json()
    attachment = upload(api, page["id"], "a.txt")
    assert api.get(f"{V2}/attachments/att424242/properties").status_code == 404
    assert api.post(f"{V2}/attachments/{page['id']}/properties", json={"key": "k", "value": 1}).status_code == 404
    assert api.get(f"{V2}/attachments/{attachment['id']}/properties/{page_prop['id']}").status_code == 404


# -- inline comments ----------------------------------------------------------------------


def inline(api: httpx.Client, page_id: str, text: str, count: int, index: int,
           body: str = "<p>Is this right?</p>") -> httpx.Response:
    return api.post(f"{V2}/inline-comments", json={
        "pageId": page_id, "body": storage(body),
        "inlineCommentProperties": {"textSelection": text, "textSelectionMatchCount": count,
                                    "textSelectionMatchIndex": index}})


def test_an_inline_comment_marks_its_text_without_a_new_version(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Commented", "<p>hello world, <strong>hello</strong> again</p>")
    created = inline(api, page["id"], "hello", 2, 1)
    assert created.status_code == 201, created.text
    comment = created.json()
    assert created.headers["location"].endswith(f"/inline-comments/{comment['id']}")
    assert comment["pageId"] == page["id"] and comment["resolutionStatus"] == "open"
    ref = comment["properties"]["inlineMarkerRef"]
    assert comment["properties"]["inlineOriginalSelection"] == "hello"
    after = stored_body(api, page["id"])
    assert after["version"]["number"] == 1  # Cloud adds the marker without a new version
    assert after["body"]["storage"]["value"] == (
        '<p>hello world, <strong><ac:inline-comment-marker ac:ref="' + ref + '">hello</ac:inline-comment-marker>'
        "</strong> again</p>")

    reply = api.post(f"{V2}/inline-comments", json={"parentCommentId": comment["id"],
                                                    "body": storage("<p>Yes.</p>")})
    assert reply.status_code == 201 and reply.json()["parentCommentId"] == comment["id"]
    listed = api.get(f"{V2}/pages/{page['id']}/inline-comments", params={"body-format": "storage"}).json()
    assert [row["id"] for row in listed["results"]] == [comment["id"]]  # root comments only
    assert listed["results"][0]["body"]["storage"]["value"] == "<p>Is this right?</p>"
    assert api.get(f"{V2}/pages/{page['id']}/inline-comments",
                   params={"resolution-status": "resolved"}).json()["results"] == []
    assert api.get(f"{V2}/pages/{page['id']}/footer-comments").json()["results"] == []


@pytest.mark.parametrize("text, count, index", [("hello", 1, 0), ("hello", 2, 2), ("absent", 1, 0), ("", 1, 0)])
def test_an_inline_comment_on_text_that_is_not_there_as_described_is_refused(
        api: httpx.Client, space: dict[str, Any], text: str, count: int, index: int) -> None:
    page = make_page(api, space, "Twice hello", "<p>hello and hello</p>")
    response = inline(api, page["id"], text, count, index)
    assert response.status_code == 400
    assert stored_body(api, page["id"])["body"]["storage"]["value"] == "<p>hello and hello</p>"
    assert api.get(f"{V2}/pages/{page['id']}/inline-comments").json()["results"] == []


def test_code_is_not_text_an_inline_comment_can_select(api: httpx.Client, space: dict[str, Any]) -> None:
    body = ('<p>run it</p><ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[run it]]>'
            "</ac:plain-text-body></ac:structured-macro>")
    page = make_page(api, space, "Code and text", body)
    assert inline(api, page["id"], "run it", 2, 1).status_code == 400
    assert inline(api, page["id"], "run it", 1, 0).status_code == 201
    assert "<![CDATA[run it]]>" in stored_body(api, page["id"])["body"]["storage"]["value"]


# -- v1 attachment update -----------------------------------------------------------------


def update_attachment(api: httpx.Client, page_id: str, attachment: dict[str, Any], number: int,
                      **fields: Any) -> httpx.Response:
    # The document's Version requires minorEdit and when (nullable) even in a request.
    version = {"number": number, "minorEdit": True, "when": None}
    body = {"id": attachment["id"], "type": "attachment", "version": version, **fields}
    return api.put(f"{V1}/content/{page_id}/child/attachment/{attachment['id']}", json=body)


def test_v1_attachment_update_renames_and_sets_comment_and_media_type(api: httpx.Client,
                                                                      space: dict[str, Any]) -> None:
    page = make_page(api, space, "Renamed files")
    attachment = upload(api, page["id"], "draft.txt", b"the bytes")
    response = update_attachment(api, page["id"], attachment, 2, title="final.md",
                                 metadata={"mediaType": "text/markdown", "comment": "renamed"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["id"] == attachment["id"] and updated["title"] == "final.md"
    assert updated["version"]["number"] == 2 and updated["metadata"]["comment"] == "renamed"
    listed = api.get(f"{V2}/pages/{page['id']}/attachments").json()["results"]
    assert [(row["title"], row["mediaType"], row["comment"]) for row in listed] == [
        ("final.md", "text/markdown", "renamed")]
    assert api.get(f"/wiki{listed[0]['downloadLink']}").content == b"the bytes"
    assert update_attachment(api, page["id"], attachment, 2, title="again.md").status_code == 409


def test_v1_attachment_update_moves_it_to_another_page_unless_the_name_is_taken(
        api: httpx.Client, space: dict[str, Any]) -> None:
    source, target = make_page(api, space, "Source"), make_page(api, space, "Target")
    attachment = upload(api, source["id"], "moving.txt")
    upload(api, target["id"], "taken.txt")
    clash = update_attachment(api, source["id"], attachment, 2, title="taken.txt", container={"id": target["id"]})
    assert clash.status_code == 400
    moved = update_attachment(api, source["id"], attachment, 2, container={"id": target["id"]})
    assert moved.status_code == 200 and moved.json()["container"]["id"] == target["id"]
    assert api.get(f"{V2}/pages/{source['id']}/attachments").json()["results"] == []
    titles = {row["title"] for row in api.get(f"{V2}/pages/{target['id']}/attachments").json()["results"]}
    assert titles == {"moving.txt", "taken.txt"}


# -- v1 user search -----------------------------------------------------------------------


@pytest.mark.parametrize("cql, found", [
    ("type=user", True),
    (f'user="{ACCOUNT_ID}"', True),
    (f'user.accountid="{ACCOUNT_ID}"', True),
    ('user IN ("12", "34")', False),
    ('user NOT IN ("12", "34")', True),
    ('user.fullname~"sandbox"', True),
    ('user.fullname~"sandbox user"', True),
    ('user.fullname~"user sandbox"', False),  # word prefixes, in order
    ('user.fullname~"andbox"', False),
    ('user.fullname~"nobody" or type=user', True),
    ('type=user and user.fullname~"nobody"', False),
    ('title~"sandbox"', False),  # not a user field: nobody, not an error
])
def test_v1_user_search_answers_user_cql(api: httpx.Client, cql: str, found: bool) -> None:
    response = api.get(f"{V1}/search/user", params={"cql": cql})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["user"]["accountId"] for row in results] == ([ACCOUNT_ID] if found else [])
    if found:
        assert results[0]["user"]["displayName"] == "Sandbox User" and results[0]["entityType"] == "user"


def test_v1_user_search_pages_by_start_and_refuses_what_does_not_parse(api: httpx.Client) -> None:
    first = api.get(f"{V1}/search/user", params={"cql": "type=user", "limit": 1}).json()
    assert first["size"] == 1 and first["limit"] == 1 and "next" not in first["_links"]
    assert api.get(f"{V1}/search/user", params={"cql": "type=user", "start": 1}).json()["results"] == []
    for cql in ('user IN "12"', "(type=user", "type"):
        refused = api.get(f"{V1}/search/user", params={"cql": cql})
        assert refused.status_code == 400 and refused.json()["statusCode"] == 400, cql


# -- v1 content state ---------------------------------------------------------------------


def state_url(page: dict[str, Any]) -> str:
    return f"{V1}/content/{page['id']}/state"


def test_content_state_set_by_id_bumps_the_version_and_keeps_the_body(api: httpx.Client,
                                                                      space: dict[str, Any]) -> None:
    page = make_page(api, space, "With a status", "<p>same</p>")
    assert api.get(state_url(page)).json() == {}
    response = api.put(state_url(page), params={"status": "current"}, json={"id": 2})
    assert response.status_code == 200, response.text
    assert response.json()["contentState"] == {"id": 2, "name": "Ready for review", "color": "#57d9a3"}
    assert api.get(state_url(page)).json()["contentState"]["id"] == 2
    after = stored_body(api, page["id"])
    assert after["version"]["number"] == 2 and after["body"]["storage"]["value"] == "<p>same</p>"
    assert "contentState" not in after  # v2 carries no state

    removed = api.delete(state_url(page), params={"status": "current"})
    assert removed.status_code == 200
    assert "contentState" not in removed.json() and removed.json()["lastUpdated"]
    assert stored_body(api, page["id"])["version"]["number"] == 3


def test_content_state_by_name_reuses_an_exact_match_and_otherwise_makes_a_custom_state(
        api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Named status")
    exact = api.put(state_url(page), params={"status": "current"},
                    json={"name": "Ready for review", "color": "#57d9a3"}).json()["contentState"]
    assert exact["id"] == 2
    custom = api.put(state_url(page), params={"status": "current"},
                     json={"name": "ready for review", "color": "#57d9a3"}).json()["contentState"]
    assert custom["id"] not in (0, 1, 2, 3) and custom["name"] == "ready for review"
    again = api.put(state_url(page), params={"status": "current"},
                    json={"name": "ready for review", "color": "#57d9a3"}).json()["contentState"]
    assert again["id"] == custom["id"]


@pytest.mark.parametrize("body, status", [
    ({"id": 999999999}, 404),
    ({"name": "Colourless"}, 400),
    ({"name": "Far too long a name for a state", "color": "#ff7452"}, 400),
    ({"name": "Bad colour", "color": "red"}, 400),
])
def test_content_state_refusals_change_nothing(api: httpx.Client, space: dict[str, Any], body: dict[str, Any],
                                               status: int) -> None:
    page = make_page(api, space, "Refused status")
    response = api.put(state_url(page), params={"status": "current"}, json=body)
    assert response.status_code == status and response.json()["statusCode"] == status
    assert api.get(state_url(page)).json() == {}
    assert stored_body(api, page["id"])["version"]["number"] == 1


# -- permissions --------------------------------------------------------------------------


def test_without_write_permission_v2_writes_answer_404_and_v1_writes_403(api: httpx.Client,
                                                                         space: dict[str, Any]) -> None:
    page = make_page(api, space, "Guarded", "<p>kept</p>")
    attachment = upload(api, page["id"], "kept.txt")
    assert api.put("/_sandbox/permissions", json={"read_only_spaces": ["DOCS"]}).status_code == 200
    v2_writes = [
        api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "No", "body": storage("")}),
        update_page(api, page, body="<p>changed</p>"),
        api.put(f"{V2}/pages/{page['id']}/title", json={"status": "current", "title": "Renamed"}),
        api.delete(f"{V2}/pages/{page['id']}"),
        api.post(f"{V2}/folders", json={"spaceId": space["id"], "title": "No folder"}),
        api.post(f"{V2}/pages/{page['id']}/properties", json={"key": "k", "value": 1}),
        api.post(f"{V2}/attachments/{attachment['id']}/properties", json={"key": "k", "value": 1}),
        api.post(f"{V2}/footer-comments", json={"pageId": page["id"], "body": storage("<p>c</p>")}),
        inline(api, page["id"], "kept", 1, 0),
    ]
    for response in v2_writes:
        assert response.status_code == 404, response.request.url
        assert "permission" in error_title(response)
    v1_writes = [
        api.post(f"{V1}/content/{page['id']}/label", json=[{"prefix": "global", "name": "no"}]),
        api.post(f"{V1}/content/{page['id']}/child/attachment", headers=XSRF,
                 files={"file": ("new.txt", b"x", "text/plain")}, data={"minorEdit": "true"}),
        api.put(state_url(page), params={"status": "current"}, json={"id": 1}),
    ]
    for response in v1_writes:
        assert response.status_code == 403 and "permission" in response.json()["message"], response.request.url
    after = stored_body(api, page["id"])
    assert (after["title"], after["version"]["number"], after["body"]["storage"]["value"]) == (
        "Guarded", 1, "<p>kept</p>")
    assert api.get(f"{V2}/pages/{page['id']}/properties").json()["results"] == []
