"""The sandbox's REST API keeps Confluence Cloud's rules.

Every exchange goes through ``api`` (tests/conftest.py), which fails the test when a
request or response breaks Atlassian's OpenAPI documents.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.sandbox import make_page, storage, update_page

V2 = "/wiki/api/v2"
DUPLICATE_TITLE = "A page with this title already exists: A page already exists with the same TITLE in this space"


def error_title(response: httpx.Response) -> str:
    return response.json()["errors"][0]["title"]


# -- spaces -------------------------------------------------------------------------------


def test_space_lookup_by_key_is_case_insensitive_and_unknown_keys_give_no_results(api: httpx.Client) -> None:
    found = api.get(f"{V2}/spaces", params={"keys": "docs"}).json()["results"]
    assert [space["key"] for space in found] == ["DOCS"]
    assert found[0]["homepageId"]
    assert api.get(f"{V2}/spaces", params={"keys": "NOPE"}).json()["results"] == []


def test_space_create_get_and_duplicate_key(api: httpx.Client) -> None:
    created = api.post(f"{V2}/spaces", json={"name": "Team", "key": "TEAM",
                                             "description": {"value": "ours", "representation": "plain"}})
    assert created.status_code == 201
    space = created.json()
    fetched = api.get(f"{V2}/spaces/{space['id']}", params={"description-format": "plain"}).json()
    assert fetched["key"] == "TEAM" and fetched["description"]["plain"]["value"] == "ours"
    home = api.get(f"{V2}/pages/{fetched['homepageId']}").json()
    assert home["spaceId"] == space["id"] and home["title"] == "Team Home"
    again = api.post(f"{V2}/spaces", json={"name": "Other", "key": "team"})
    assert again.status_code == 400
    assert api.get(f"{V2}/spaces/999999").status_code == 404


def test_spaces_filter_by_ids(api: httpx.Client) -> None:
    team = api.post(f"{V2}/spaces", json={"name": "Team", "key": "TEAM"}).json()
    only = api.get(f"{V2}/spaces", params={"ids": [team["id"]]}).json()["results"]
    assert [space["key"] for space in only] == ["TEAM"]


# -- pages: create, read, update ----------------------------------------------------------


def test_create_page_defaults_to_the_space_home_page_as_parent(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Guide", "<p>Hello <strong>world</strong></p>")
    assert page["parentId"] == space["homepageId"] and page["parentType"] == "page"
    assert page["version"]["number"] == 1 and page["status"] == "current"
    assert page["_links"]["webui"] == f"/spaces/DOCS/pages/{page['id']}/Guide"
    assert page["_links"]["base"].endswith("/wiki")
    fetched = api.get(f"{V2}/pages/{page['id']}", params={"body-format": "storage"}).json()
    assert fetched["body"]["storage"] == {"representation": "storage", "value": "<p>Hello <strong>world</strong></p>"}
    assert api.get(f"{V2}/pages/{page['id']}").json()["body"] == {}


def test_create_under_a_parent_and_at_root_level(api: httpx.Client, space: dict[str, Any]) -> None:
    parent = make_page(api, space, "Parent")
    child = make_page(api, space, "Child", parent=parent["id"])
    assert child["parentId"] == parent["id"]
    root = make_page(api, space, "Loose", **{"root-level": "true"})
    assert root["parentId"] is None and root["parentType"] is None
    both = api.post(f"{V2}/pages", params={"root-level": "true"},
                    json={"spaceId": space["id"], "title": "Bad", "parentId": parent["id"], "body": storage("")})
    assert both.status_code == 400
    missing = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "Orphan", "parentId": "999999",
                                            "body": storage("")})
    assert missing.status_code == 404


def test_nested_body_shape_is_accepted(api: httpx.Client, space: dict[str, Any]) -> None:
    response = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "Nested",
                                             "body": {"storage": storage("<p>nested</p>")}})
    assert response.status_code == 200
    body = api.get(f"{V2}/pages/{response.json()['id']}", params={"body-format": "storage"}).json()["body"]
    assert body["storage"]["value"] == "<p>nested</p>"


def test_titles_are_unique_per_space_ignoring_case(api: httpx.Client, space: dict[str, Any]) -> None:
    make_page(api, space, "Runbook")
    clash = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "runbook", "body": storage("")})
    assert clash.status_code == 400 and error_title(clash) == DUPLICATE_TITLE
    other = api.post(f"{V2}/spaces", json={"name": "Other", "key": "OTHER"}).json()
    elsewhere = api.post(f"{V2}/pages", json={"spaceId": other["id"], "title": "Runbook", "body": storage("")})
    assert elsewhere.status_code == 200


def test_renaming_onto_a_taken_title_is_refused(api: httpx.Client, space: dict[str, Any]) -> None:
    make_page(api, space, "Taken")
    page = make_page(api, space, "Free")
    response = update_page(api, page, title="TAKEN")
    assert response.status_code == 400 and error_title(response) == DUPLICATE_TITLE


def test_update_needs_version_plus_one(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Versioned", "<p>one</p>")
    ok = update_page(api, page, body="<p>two</p>", version=2)
    assert ok.status_code == 200 and ok.json()["version"]["number"] == 2
    for stale in (2, 1, 4):
        refused = update_page(api, page, body="<p>three</p>", version=stale)
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["code"] == "CONFLICT"
        assert error_title(refused) == (
            "Version must be incremented when updating a page. "
            f"Current Version: [2]. Provided version: [{stale}]"
        )
    body = api.get(f"{V2}/pages/{page['id']}", params={"body-format": "storage"}).json()
    assert body["version"]["number"] == 2 and body["body"]["storage"]["value"] == "<p>two</p>"


def test_update_requires_the_documented_fields(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Fields")
    response = api.put(f"{V2}/pages/{page['id']}", json={"id": page["id"], "title": "Fields",
                                                         "version": {"number": 2}})
    assert response.status_code == 400
    assert "status" in error_title(response) and "body" in error_title(response)


def test_version_message_and_history(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "History", "<p>first</p>")
    update_page(api, page, body="<p>second</p>", version=2, title="History renamed")
    api.put(f"{V2}/pages/{page['id']}", json={
        "id": page["id"], "status": "current", "title": "History renamed", "body": storage("<p>third</p>"),
        "version": {"number": 3, "message": "sync from git abc123"}})
    latest = api.get(f"{V2}/pages/{page['id']}").json()
    assert latest["version"]["message"] == "sync from git abc123"
    old = api.get(f"{V2}/pages/{page['id']}", params={"version": 1, "body-format": "storage"}).json()
    assert old["title"] == "History" and old["body"]["storage"]["value"] == "<p>first</p>"
    assert old["version"]["number"] == 1
    versions = api.get(f"{V2}/pages/{page['id']}/versions", params={"body-format": "storage"}).json()["results"]
    assert [item["number"] for item in versions] == [3, 2, 1]
    assert versions[1]["page"]["body"]["storage"]["value"] == "<p>second</p>"
    detail = api.get(f"{V2}/pages/{page['id']}/versions/2").json()
    assert detail["prevVersion"] == 1 and detail["nextVersion"] == 3
    assert api.get(f"{V2}/pages/{page['id']}", params={"version": 9}).status_code == 404


def test_rename_only_endpoint_keeps_the_body(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Before", "<p>kept</p>")
    renamed = api.put(f"{V2}/pages/{page['id']}/title", json={"status": "current", "title": "After"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "After"
    fetched = api.get(f"{V2}/pages/{page['id']}", params={"body-format": "storage"}).json()
    assert fetched["version"]["number"] == 2 and fetched["body"]["storage"]["value"] == "<p>kept</p>"


def test_move_changes_parent_and_refuses_cycles(api: httpx.Client, space: dict[str, Any]) -> None:
    a = make_page(api, space, "A")
    b = make_page(api, space, "B", parent=a["id"])
    c = make_page(api, space, "C")
    moved = update_page(api, c, parentId=b["id"])
    assert moved.status_code == 200 and moved.json()["parentId"] == b["id"]
    cycle = update_page(api, a, parentId=b["id"])
    assert cycle.status_code == 400
    gone_parent = update_page(api, c, parentId="424242")
    assert gone_parent.status_code == 404


def test_unknown_page_is_404_with_confluence_wording(api: httpx.Client) -> None:
    response = api.get(f"{V2}/pages/987654321")
    assert response.status_code == 404
    assert error_title(response) == "Cannot find a page with id [987654321]"


def test_body_too_large_is_413(api: httpx.Client, space: dict[str, Any]) -> None:
    huge = "<p>" + "x" * (5 * 1024 * 1024 + 10) + "</p>"
    response = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "Huge", "body": storage(huge)})
    assert response.status_code == 413


def test_draft_pages_are_hidden_until_published(api: httpx.Client, space: dict[str, Any]) -> None:
    draft = api.post(f"{V2}/pages", json={"spaceId": space["id"], "status": "draft", "body": storage("<p>wip</p>")})
    assert draft.status_code == 200 and draft.json()["status"] == "draft"
    draft_id = draft.json()["id"]
    listed = api.get(f"{V2}/pages", params={"space-id": space["id"]}).json()["results"]
    assert draft_id not in {page["id"] for page in listed}
    assert api.get(f"{V2}/pages/{draft_id}").status_code == 404
    assert api.get(f"{V2}/pages/{draft_id}", params={"get-draft": "true"}).json()["status"] == "draft"
    published = api.put(f"{V2}/pages/{draft_id}", json={"id": draft_id, "status": "current", "title": "Now public",
                                                        "body": storage("<p>done</p>"), "version": {"number": 1}})
    assert published.status_code == 200 and published.json()["status"] == "current"


# -- storage format -----------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "<p>unclosed",
    "<p>a</b>",
    "<br>",
    "<p>&bogus;</p>",
    "<ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[a]]>b]]></ac:plain-text-body></ac:structured-macro>",
    "<foo:bar>undeclared prefix</foo:bar>",
    '<!DOCTYPE x [<!ENTITY big "boom">]><p>&big;</p>',
])
def test_malformed_storage_is_refused(api: httpx.Client, space: dict[str, Any], body: str) -> None:
    response = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "Bad body", "body": storage(body)})
    assert response.status_code == 400
    assert error_title(response).startswith("Error parsing xhtml: ")
    assert api.get(f"{V2}/pages", params={"title": "Bad body"}).json()["results"] == []


def test_named_html_entities_and_cdata_are_accepted(api: httpx.Client, space: dict[str, Any]) -> None:
    body = ("<p>a&nbsp;b &mdash; c&hellip;</p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body>"
            "<![CDATA[x ]]]]><![CDATA[> &nbsp; <br>]]></ac:plain-text-body></ac:structured-macro>")
    page = make_page(api, space, "Entities", body)
    stored = api.get(f"{V2}/pages/{page['id']}", params={"body-format": "storage"}).json()["body"]["storage"]["value"]
    # Confluence keeps HTML named entities named in what it stores.
    assert "<p>a&nbsp;b &mdash; c&hellip;</p>" in stored
    # CDATA content is kept verbatim, including what looks like entities and tags.
    assert "<![CDATA[x ]]]]><![CDATA[> &nbsp; <br>]]>" in stored


def test_storage_is_normalised_like_confluence_on_save(api: httpx.Client, space: dict[str, Any]) -> None:
    body = ('<p>one<br/>two</p><ac:structured-macro ac:name="info"><ac:rich-text-body><p>x</p>'
            "</ac:rich-text-body></ac:structured-macro>")
    page = make_page(api, space, "Normalised", body)
    stored = api.get(f"{V2}/pages/{page['id']}", params={"body-format": "storage"}).json()["body"]["storage"]["value"]
    assert "<br />" in stored
    assert 'ac:schema-version="1"' in stored and 'ac:macro-id="' in stored
    # An existing macro id is kept, not replaced.
    kept = make_page(api, space, "Kept id", '<ac:structured-macro ac:name="toc" ac:macro-id="abc-1" />')
    stored = api.get(f"{V2}/pages/{kept['id']}", params={"body-format": "storage"}).json()["body"]["storage"]["value"]
    assert 'ac:macro-id="abc-1"' in stored


def test_view_body_renders_storage_as_html(api: httpx.Client, space: dict[str, Any]) -> None:
    body = ('<h2>Setup</h2><ac:structured-macro ac:name="code"><ac:parameter ac:name="language">py</ac:parameter>'
            "<ac:plain-text-body><![CDATA[print('<hi>')]]></ac:plain-text-body></ac:structured-macro>")
    page = make_page(api, space, "Viewable", body)
    view = api.get(f"{V2}/pages/{page['id']}", params={"body-format": "view"}).json()["body"]["view"]
    assert view["representation"] == "view"
    assert "<h2" in view["value"] and "Setup" in view["value"]
    assert "print(&#39;&lt;hi&gt;&#39;)" in view["value"] or "print('&lt;hi&gt;')" in view["value"]
    assert "ac:structured-macro" not in view["value"]


def test_unsupported_representations_are_refused_plainly(api: httpx.Client, space: dict[str, Any]) -> None:
    response = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "Wiki",
                                             "body": {"representation": "wiki", "value": "h1. x"}})
    assert response.status_code == 400 and "storage" in error_title(response)


# -- listing and pagination ---------------------------------------------------------------


def test_listing_walks_every_page_once_with_cursor_links(api: httpx.Client, space: dict[str, Any]) -> None:
    created = {make_page(api, space, f"Page {n}")["id"] for n in range(7)}
    seen: list[str] = []
    response = api.get(f"{V2}/pages", params={"space-id": space["id"], "limit": 3})
    while True:
        assert response.status_code == 200
        seen += [page["id"] for page in response.json()["results"]]
        next_link = response.json()["_links"].get("next")
        if not next_link:
            assert "link" not in response.headers
            break
        assert next_link.startswith("/wiki/api/v2/pages?")
        assert response.headers["link"].startswith(f"<{next_link}>; rel=\"next\"")
        query = parse_qs(urlsplit(next_link).query)
        assert query["limit"] == ["3"] and query["space-id"] == [space["id"]]
        response = api.get(next_link)
    assert len(seen) == len(set(seen)) == 8  # seven pages and the home page
    assert created <= set(seen)


def walk(api: httpx.Client, first: httpx.Response, between: Any = None) -> list[dict[str, Any]]:
    """Every row of a cursor listing, calling ``between()`` after the first request."""
    rows: list[dict[str, Any]] = []
    response = first
    while True:
        assert response.status_code == 200, response.text
        rows += response.json()["results"]
        next_link = response.json()["_links"].get("next")
        if not next_link:
            return rows
        if between is not None:
            between()
            between = None
        response = api.get(next_link)


@pytest.mark.parametrize("sort", ["id", "-id", "title", "-title", "created-date", "-modified-date"])
def test_a_cursor_goes_on_after_its_last_row_when_rows_before_it_change(api: httpx.Client, space: dict[str, Any],
                                                                        sort: str) -> None:
    # Confluence's cursors mark a place in the order, not a count of rows: a page trashed or
    # added before that place between two requests makes the next one neither skip nor repeat.
    pages = [make_page(api, space, f"Topic {letter}") for letter in "ECAFDBG"]
    params = {"space-id": space["id"], "limit": 3, "sort": sort}
    full = [row["id"] for row in walk(api, api.get(f"{V2}/pages", params=params))]
    assert len(full) == len(set(full)) == 8  # seven pages and the home page
    first = api.get(f"{V2}/pages", params=params)
    gone = next(row["id"] for row in first.json()["results"] if row["id"] != space["homepageId"])

    def trash_one_already_listed() -> None:
        assert api.delete(f"{V2}/pages/{gone}").status_code == 204

    listed = [row["id"] for row in walk(api, first, trash_one_already_listed)]
    assert listed == full, "a row after the cursor was skipped or repeated"
    assert {page["id"] for page in pages} <= set(full)


def test_a_listing_in_title_order_is_in_title_order(api: httpx.Client, space: dict[str, Any]) -> None:
    for letter in "cBaD":
        make_page(api, space, f"{letter} page")
    rows = walk(api, api.get(f"{V2}/pages", params={"space-id": space["id"], "limit": 2, "sort": "title"}))
    titles = [row["title"] for row in rows if row["title"].endswith(" page")]
    assert titles == ["a page", "B page", "c page", "D page"]


@pytest.mark.parametrize("limit", ["0", "251", "-1", "ten"])
def test_limit_outside_1_to_250_is_refused(api: httpx.Client, limit: str) -> None:
    response = api.get(f"{V2}/pages", params={"limit": limit})
    assert response.status_code == 400


def test_limit_250_is_allowed_and_a_forged_cursor_is_refused(api: httpx.Client) -> None:
    assert api.get(f"{V2}/pages", params={"limit": 250}).status_code == 200
    assert api.get(f"{V2}/pages", params={"cursor": "not-a-cursor"}).status_code == 400


def test_title_filter_is_exact_and_case_insensitive(api: httpx.Client, space: dict[str, Any]) -> None:
    make_page(api, space, "Install Guide")
    make_page(api, space, "Install")
    found = api.get(f"{V2}/pages", params={"title": "install guide", "space-id": space["id"]}).json()["results"]
    assert [page["title"] for page in found] == ["Install Guide"]


def test_list_with_storage_bodies_and_sorting(api: httpx.Client, space: dict[str, Any]) -> None:
    make_page(api, space, "Bravo", "<p>b</p>")
    make_page(api, space, "Alpha", "<p>a</p>")
    results = api.get(f"{V2}/spaces/{space['id']}/pages",
                      params={"body-format": "storage", "sort": "title"}).json()["results"]
    titles = [page["title"] for page in results]
    assert titles == sorted(titles, key=str.lower)
    alpha = next(page for page in results if page["title"] == "Alpha")
    assert alpha["body"]["storage"]["value"] == "<p>a</p>"


def test_status_filter_accepts_repeated_and_comma_separated_values(sandbox: Any, space: dict[str, Any],
                                                                   api: httpx.Client) -> None:
    page = make_page(api, space, "Binned")
    api.delete(f"{V2}/pages/{page['id']}")
    repeated = api.get(f"{V2}/pages", params={"status": ["current", "trashed"]}).json()["results"]
    assert page["id"] in {item["id"] for item in repeated}
    # Confluence documents comma-separated lists too; the OpenAPI form is the repeated one.
    with httpx.Client(base_url=sandbox.url, auth=("sandbox@example.com", "sandbox-token")) as plain:
        comma = plain.get(f"{V2}/pages", params={"status": "current,trashed"}).json()["results"]
    assert page["id"] in {item["id"] for item in comma}
    assert api.get(f"{V2}/pages", params={"status": "draft"}).status_code == 400


# -- hierarchy ----------------------------------------------------------------------------


def test_children_ancestors_and_descendants(api: httpx.Client, space: dict[str, Any]) -> None:
    top = make_page(api, space, "Top")
    mid = make_page(api, space, "Mid", parent=top["id"])
    second = make_page(api, space, "Second", parent=top["id"])
    leaf = make_page(api, space, "Leaf", parent=mid["id"])

    direct = api.get(f"{V2}/pages/{top['id']}/direct-children").json()["results"]
    assert [(row["title"], row["type"]) for row in direct] == [("Mid", "page"), ("Second", "page")]
    assert direct[0]["childPosition"] < direct[1]["childPosition"]
    legacy = api.get(f"{V2}/pages/{top['id']}/children").json()["results"]
    assert [row["id"] for row in legacy] == [mid["id"], second["id"]]

    ancestors = api.get(f"{V2}/pages/{leaf['id']}/ancestors").json()["results"]
    assert [row["id"] for row in ancestors] == [space["homepageId"], top["id"], mid["id"]]
    nearest = api.get(f"{V2}/pages/{leaf['id']}/ancestors", params={"limit": 1}).json()["results"]
    assert [row["id"] for row in nearest] == [mid["id"]]

    one = api.get(f"{V2}/pages/{top['id']}/descendants", params={"depth": 1}).json()["results"]
    assert {row["id"] for row in one} == {mid["id"], second["id"]}
    two = api.get(f"{V2}/pages/{top['id']}/descendants", params={"depth": 2}).json()["results"]
    by_id = {row["id"]: row for row in two}
    assert by_id[leaf["id"]]["depth"] == 2 and by_id[leaf["id"]]["parentId"] == mid["id"]
    assert api.get(f"{V2}/pages/{top['id']}/descendants", params={"depth": 11}).status_code == 400
    assert api.get(f"{V2}/pages/424242/direct-children").status_code == 404


def test_space_pages_depth_root(api: httpx.Client, space: dict[str, Any]) -> None:
    make_page(api, space, "Under home")
    loose = make_page(api, space, "At root", **{"root-level": "true"})
    roots = api.get(f"{V2}/spaces/{space['id']}/pages", params={"depth": "root"}).json()["results"]
    assert {page["id"] for page in roots} == {space["homepageId"], loose["id"]}


# -- trash, purge, restore ----------------------------------------------------------------


def test_delete_moves_to_trash_then_purge_removes(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Temporary")
    assert api.delete(f"{V2}/pages/{page['id']}", params={"purge": "true"}).status_code == 400
    assert api.delete(f"{V2}/pages/{page['id']}").status_code == 204
    trashed = api.get(f"{V2}/pages/{page['id']}").json()
    assert trashed["status"] == "trashed" and trashed["parentId"] is None and trashed["position"] is None
    current = api.get(f"{V2}/pages", params={"space-id": space["id"]}).json()["results"]
    assert page["id"] not in {item["id"] for item in current}
    # A trashed page does not hold its title.
    assert make_page(api, space, "Temporary")["title"] == "Temporary"
    assert api.delete(f"{V2}/pages/{page['id']}", params={"purge": "true"}).status_code == 204
    assert api.get(f"{V2}/pages/{page['id']}").status_code == 404


def test_trashing_a_parent_leaves_its_children_archived_with_no_parent(api: httpx.Client,
                                                                        space: dict[str, Any]) -> None:
    # Cloud does not move the children up: the direct ones are archived and lose their parent,
    # while their own subtrees stay under them.
    parent = make_page(api, space, "Going")
    first = make_page(api, space, "Staying", parent=parent["id"])
    second = make_page(api, space, "Staying too", parent=parent["id"])
    grandchild = make_page(api, space, "Below staying", parent=first["id"])
    assert api.delete(f"{V2}/pages/{parent['id']}").status_code == 204
    for child in (first, second):
        archived = api.get(f"{V2}/pages/{child['id']}").json()
        assert archived["status"] == "archived"
        assert archived["parentId"] is None and archived["parentType"] is None
    below = api.get(f"{V2}/pages/{grandchild['id']}").json()
    assert below["status"] == "current" and (below["parentId"], below["parentType"]) == (first["id"], "page")
    assert [row["id"] for row in api.get(f"{V2}/pages/{first['id']}/children").json()["results"]] == [
        grandchild["id"]]
    home_children = api.get(f"{V2}/pages/{space['homepageId']}/direct-children").json()["results"]
    assert {first["id"], second["id"], parent["id"]}.isdisjoint(row["id"] for row in home_children)
    chain = api.get(f"{V2}/pages/{grandchild['id']}/ancestors").json()["results"]
    assert [row["id"] for row in chain] == [first["id"]]


def test_an_archived_page_keeps_its_title_and_a_trashed_one_frees_its_own(api: httpx.Client,
                                                                          space: dict[str, Any]) -> None:
    parent = make_page(api, space, "Binned parent")
    make_page(api, space, "Archived child", parent=parent["id"])
    api.delete(f"{V2}/pages/{parent['id']}")
    clash = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "archived CHILD", "body": storage("")})
    assert clash.status_code == 400 and error_title(clash) == DUPLICATE_TITLE
    other = make_page(api, space, "Another")
    renamed = update_page(api, other, title="Archived child")
    assert renamed.status_code == 400 and error_title(renamed) == DUPLICATE_TITLE
    assert api.put(f"{V2}/pages/{other['id']}/title", json={"status": "current",
                                                            "title": "Archived child"}).status_code == 400
    assert make_page(api, space, "Binned parent")["id"] != parent["id"]


def test_status_current_leaves_archived_pages_out_and_status_archived_lists_them(
        api: httpx.Client, space: dict[str, Any]) -> None:
    parent = make_page(api, space, "Parent to trash")
    child = make_page(api, space, "Child to archive", parent=parent["id"])
    kept = make_page(api, space, "Plainly current")
    api.delete(f"{V2}/pages/{parent['id']}")
    for path in (f"{V2}/pages", f"{V2}/spaces/{space['id']}/pages"):
        current = {row["id"] for row in api.get(path, params={"status": "current"}).json()["results"]}
        assert kept["id"] in current and child["id"] not in current and parent["id"] not in current
        archived = api.get(path, params={"status": "archived"}).json()["results"]
        assert [(row["id"], row["status"]) for row in archived] == [(child["id"], "archived")]
        either = {row["id"] for row in api.get(path).json()["results"]}  # Cloud's default: current and archived
        assert {kept["id"], child["id"]} <= either and parent["id"] not in either


def test_restore_from_trash_keeps_content(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Comeback", "<p>original</p>")
    api.delete(f"{V2}/pages/{page['id']}")
    restored = api.put(f"{V2}/pages/{page['id']}", json={
        "id": page["id"], "status": "current", "title": "ignored", "body": storage("<p>ignored</p>"),
        "version": {"number": 2}})
    assert restored.status_code == 200 and restored.json()["status"] == "current"
    body = api.get(f"{V2}/pages/{page['id']}", params={"body-format": "storage"}).json()
    assert body["title"] == "Comeback" and body["body"]["storage"]["value"] == "<p>original</p>"


def test_home_page_cannot_be_deleted(api: httpx.Client, space: dict[str, Any]) -> None:
    assert api.delete(f"{V2}/pages/{space['homepageId']}").status_code == 400


# -- content properties -------------------------------------------------------------------


def test_content_properties_crud_and_versioning(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "With props")
    base = f"{V2}/pages/{page['id']}/properties"
    created = api.post(base, json={"key": "mdsync", "value": {"path": "docs/a.md", "hash": "abc"}})
    assert created.status_code == 200
    prop = created.json()
    assert prop["version"]["number"] == 1 and prop["value"] == {"path": "docs/a.md", "hash": "abc"}
    assert api.post(base, json={"key": "mdsync", "value": 1}).status_code == 409
    by_key = api.get(base, params={"key": "mdsync"}).json()["results"]
    assert [item["id"] for item in by_key] == [prop["id"]]
    stale = api.put(f"{base}/{prop['id']}", json={"key": "mdsync", "value": 2, "version": {"number": 1}})
    assert stale.status_code == 409
    updated = api.put(f"{base}/{prop['id']}", json={"key": "mdsync", "value": "new", "version": {"number": 2}})
    assert updated.status_code == 200 and updated.json()["value"] == "new"
    assert api.get(f"{base}/{prop['id']}").json()["version"]["number"] == 2
    included = api.get(f"{V2}/pages/{page['id']}", params={"include-properties": "true"}).json()
    assert [item["key"] for item in included["properties"]["results"]] == ["mdsync"]
    assert api.delete(f"{base}/{prop['id']}").status_code == 204
    assert api.get(f"{base}/{prop['id']}").status_code == 404


# -- labels -------------------------------------------------------------------------------


def test_labels_added_through_v1_and_read_through_v2(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Labelled")
    added = api.post(f"/wiki/rest/api/content/{page['id']}/label",
                     json=[{"prefix": "global", "name": "Runbook"}, {"prefix": "global", "name": "ops"}])
    assert added.status_code == 200
    assert sorted(label["name"] for label in added.json()["results"]) == ["ops", "runbook"]
    single = api.post(f"/wiki/rest/api/content/{page['id']}/label", json={"prefix": "global", "name": "ops"})
    assert single.status_code == 200 and single.json()["size"] == 2  # adding twice keeps one
    read = api.get(f"{V2}/pages/{page['id']}/labels").json()["results"]
    assert sorted(label["name"] for label in read) == ["ops", "runbook"]
    assert api.delete(f"/wiki/rest/api/content/{page['id']}/label", params={"name": "ops"}).status_code == 204
    assert api.delete(f"/wiki/rest/api/content/{page['id']}/label/runbook").status_code == 204
    assert api.get(f"{V2}/pages/{page['id']}/labels").json()["results"] == []


@pytest.mark.parametrize("name", ["two words", "semi;colon", "", "x" * 256])
def test_invalid_labels_are_refused_in_v1_shape(api: httpx.Client, space: dict[str, Any], name: str) -> None:
    page = make_page(api, space, f"Label test {len(name)} {name[:3]!r}")
    response = api.post(f"/wiki/rest/api/content/{page['id']}/label", json=[{"prefix": "global", "name": name}])
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400 and response.json()["message"]


# -- attachments --------------------------------------------------------------------------

XSRF = {"X-Atlassian-Token": "no-check"}


def upload(api: httpx.Client, page_id: str, name: str, data: bytes, method: str = "POST",
           media_type: str = "application/octet-stream", comment: str | None = None) -> httpx.Response:
    fields = {"minorEdit": "true"}
    if comment is not None:
        fields["comment"] = comment
    return api.request(method, f"/wiki/rest/api/content/{page_id}/child/attachment", headers=XSRF,
                       files={"file": (name, data, media_type)}, data=fields)


def test_attachment_upload_duplicate_new_version_and_download(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Files")
    first = upload(api, page["id"], "diagram.png", b"\x89PNG one", "POST", "image/png", comment="first")
    assert first.status_code == 200
    attachment = first.json()["results"][0]
    assert attachment["id"].startswith("att") and attachment["title"] == "diagram.png"
    assert attachment["version"]["number"] == 1 and attachment["extensions"]["fileSize"] == 8
    duplicate = upload(api, page["id"], "diagram.png", b"again")
    assert duplicate.status_code == 400 and "same file name" in duplicate.json()["message"]

    by_put = upload(api, page["id"], "diagram.png", b"\x89PNG two", "PUT", "image/png")
    assert by_put.status_code == 200 and by_put.json()["results"][0]["version"]["number"] == 2
    assert by_put.json()["results"][0]["id"] == attachment["id"]

    data_url = f"/wiki/rest/api/content/{page['id']}/child/attachment/{attachment['id']}/data"
    third = api.post(data_url, headers=XSRF, files={"file": ("diagram.png", b"\x89PNG three", "image/png")},
                     data={"minorEdit": "false"})
    assert third.status_code == 200 and third.json()["version"]["number"] == 3

    download = f"/wiki/rest/api/content/{page['id']}/child/attachment/{attachment['id']}/download"
    redirect = api.get(download)
    assert redirect.status_code == 302
    assert api.get(redirect.headers["location"]).content == b"\x89PNG three"
    old = api.get(download, params={"version": 1}, follow_redirects=True)
    assert old.content == b"\x89PNG one"

    listed = api.get(f"{V2}/pages/{page['id']}/attachments").json()["results"]
    assert [(item["title"], item["version"]["number"], item["mediaType"]) for item in listed] == [
        ("diagram.png", 3, "image/png")]
    assert listed[0]["downloadLink"].startswith(f"/download/attachments/{page['id']}/diagram.png")
    single = api.get(f"{V2}/attachments/{attachment['id']}").json()
    assert single["pageId"] == page["id"] and single["fileSize"] == len(b"\x89PNG three")


def test_attachment_upload_needs_the_xsrf_header(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "No token")
    response = api.post(f"/wiki/rest/api/content/{page['id']}/child/attachment",
                        files={"file": ("a.txt", b"a", "text/plain")}, data={"minorEdit": "true"})
    assert response.status_code == 403
    assert api.get(f"{V2}/pages/{page['id']}/attachments").json()["results"] == []


def test_attachment_names_with_spaces_and_unicode_survive(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Unicode files")
    name = "Résumé plan 图表.png"
    response = upload(api, page["id"], name, b"bytes", media_type="image/png")
    assert response.status_code == 200 and response.json()["results"][0]["title"] == name
    found = api.get(f"{V2}/pages/{page['id']}/attachments", params={"filename": name}).json()["results"]
    assert [item["title"] for item in found] == [name]
    fetched = api.get(f"/wiki{found[0]['downloadLink']}")
    assert fetched.status_code == 200 and fetched.content == b"bytes"


def test_attachment_name_with_slash_is_refused(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Slash")
    assert upload(api, page["id"], "a/b.txt", b"x").status_code == 400


def test_attachment_trash_then_purge(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Trash files")
    attachment = upload(api, page["id"], "old.txt", b"x").json()["results"][0]
    # The document types DELETE's id as an integer (GET's as "att123"); send the number.
    number = attachment["id"].removeprefix("att")
    assert api.delete(f"{V2}/attachments/{number}", params={"purge": "true"}).status_code == 400
    assert api.delete(f"{V2}/attachments/{number}").status_code == 204
    assert api.get(f"{V2}/pages/{page['id']}/attachments").json()["results"] == []
    trashed = api.get(f"{V2}/pages/{page['id']}/attachments", params={"status": "trashed"}).json()["results"]
    assert [item["id"] for item in trashed] == [attachment["id"]]
    # The name is free again once the old file is in the trash.
    assert upload(api, page["id"], "old.txt", b"y").status_code == 200
    assert api.delete(f"{V2}/attachments/{number}", params={"purge": "true"}).status_code == 204
    assert api.get(f"{V2}/attachments/{attachment['id']}").status_code == 404


def test_v1_attachment_listing_still_answers(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Listed files")
    upload(api, page["id"], "a.txt", b"a", media_type="text/plain")
    upload(api, page["id"], "b.txt", b"b", media_type="text/plain")
    listed = api.get(f"/wiki/rest/api/content/{page['id']}/child/attachment", params={"filename": "b.txt"}).json()
    assert [item["title"] for item in listed["results"]] == ["b.txt"] and listed["size"] == 1


# -- footer comments, blog posts, user ----------------------------------------------------


def test_footer_comments(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Discussed")
    created = api.post(f"{V2}/footer-comments", json={"pageId": page["id"], "body": storage("<p>Looks good</p>")})
    assert created.status_code == 201
    comment = created.json()
    assert created.headers["location"].endswith(f"/footer-comments/{comment['id']}")
    reply = api.post(f"{V2}/footer-comments", json={"parentCommentId": comment["id"], "body": storage("<p>Thanks</p>")})
    assert reply.status_code == 201 and reply.json()["pageId"] == page["id"]
    listed = api.get(f"{V2}/pages/{page['id']}/footer-comments", params={"body-format": "storage"}).json()["results"]
    assert [item["body"]["storage"]["value"] for item in listed] == ["<p>Looks good</p>", "<p>Thanks</p>"]
    bad = api.post(f"{V2}/footer-comments", json={"pageId": page["id"], "body": storage("<p>broken")})
    assert bad.status_code == 400


def test_blog_posts_crud(api: httpx.Client, space: dict[str, Any]) -> None:
    created = api.post(f"{V2}/blogposts", json={"spaceId": space["id"], "title": "Release 1.0",
                                                "body": storage("<p>Shipped</p>")})
    assert created.status_code == 200
    post = created.json()
    assert "parentId" not in post and post["_links"]["webui"].startswith("/spaces/DOCS/blog/")
    same_day = api.post(f"{V2}/blogposts", json={"spaceId": space["id"], "title": "Release 1.0",
                                                 "body": storage("")})
    assert same_day.status_code == 400
    updated = api.put(f"{V2}/blogposts/{post['id']}", json={"id": post["id"], "status": "current",
                                                           "title": "Release 1.0", "body": storage("<p>v2</p>"),
                                                           "version": {"number": 2}})
    assert updated.status_code == 200 and updated.json()["version"]["number"] == 2
    listed = api.get(f"{V2}/spaces/{space['id']}/blogposts").json()["results"]
    assert [item["id"] for item in listed] == [post["id"]]
    assert api.get(f"{V2}/blogposts", params={"space-id": space["id"]}).json()["results"][0]["id"] == post["id"]
    # A blog post is not a page.
    assert api.get(f"{V2}/pages/{post['id']}").status_code == 404
    assert api.delete(f"{V2}/blogposts/{post['id']}").status_code == 204
    assert api.get(f"{V2}/blogposts/{post['id']}").json()["status"] == "trashed"


def test_blog_post_properties_and_labels(api: httpx.Client, space: dict[str, Any]) -> None:
    post = api.post(f"{V2}/blogposts", json={"spaceId": space["id"], "title": "Notes",
                                             "body": storage("<p>n</p>")}).json()
    assert api.post(f"{V2}/blogposts/{post['id']}/properties", json={"key": "k", "value": 1}).status_code == 200
    api.post(f"/wiki/rest/api/content/{post['id']}/label", json=[{"prefix": "global", "name": "news"}])
    labels = api.get(f"{V2}/blogposts/{post['id']}/labels").json()["results"]
    assert [label["name"] for label in labels] == ["news"]


def test_current_user(api: httpx.Client) -> None:
    user = api.get("/wiki/rest/api/user/current").json()
    assert user["type"] == "known" and user["email"] == "sandbox@example.com" and user["accountId"]


def test_unknown_routes_answer_in_the_api_envelope(api: httpx.Client, sandbox: Any) -> None:
    with httpx.Client(base_url=sandbox.url, auth=("sandbox@example.com", "sandbox-token")) as plain:
        response = plain.get(f"{V2}/no-such-thing")
        assert response.status_code == 404 and response.json()["errors"][0]["code"] == "NOT_FOUND"
        not_allowed = plain.patch(f"{V2}/pages")
        assert not_allowed.status_code == 405 and "errors" in not_allowed.json()


# -- permissions ------------------------------------------------------------------------------------------


def test_operations_say_what_the_user_may_do_and_a_view_only_space_refuses_writes(
        api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Permission probe")
    operations = api.get(f"/wiki/api/v2/spaces/{space['id']}/operations").json()["operations"]
    assert {"operation": "create", "targetType": "page"} in operations
    page_ops = api.get(f"/wiki/api/v2/pages/{page['id']}/operations").json()["operations"]
    assert {"operation": "update", "targetType": "page"} in page_ops

    assert api.put("/_sandbox/permissions", json={"read_only_spaces": ["docs"]}).json() == {
        "read_only_spaces": ["DOCS"]}
    operations = api.get(f"/wiki/api/v2/spaces/{space['id']}/operations").json()["operations"]
    assert operations == [{"operation": "read", "targetType": "space"}]
    page_ops = api.get(f"/wiki/api/v2/pages/{page['id']}/operations").json()["operations"]
    assert page_ops == [{"operation": "read", "targetType": "page"}]
    refused = api.post("/wiki/api/v2/pages", json={"spaceId": space["id"], "status": "current", "title": "No",
                                                   "body": storage("<p>x</p>")})
    # A missing create, update or delete permission is a 404 in v2, as its OpenAPI document says.
    assert refused.status_code == 404 and "permission" in refused.json()["errors"][0]["title"]
    assert update_page(api, page, body="<p>changed</p>").status_code == 404
    assert api.delete(f"/wiki/api/v2/pages/{page['id']}").status_code == 404
    assert api.get(f"/wiki/api/v2/pages/{page['id']}").status_code == 200  # reading still works

    assert api.put("/_sandbox/permissions", json={"read_only_spaces": []}).status_code == 200
    assert update_page(api, page, body="<p>changed</p>").status_code == 200
    assert api.put("/_sandbox/permissions", json={"read_only_spaces": "DOCS"}).status_code == 400


def test_create_and_update_answer_the_body_as_stored(api: httpx.Client, space: dict[str, Any]) -> None:
    """Cloud answers a write with the stored page, body.storage included, re-serialised as it
    stores it; a client that reads the body from that answer must find it there."""
    sent = '<p>One<br/>two</p><ac:structured-macro ac:name="info"><ac:rich-text-body><p>x</p></ac:rich-text-body>' \
           '</ac:structured-macro>'
    created = make_page(api, space, "Written", sent)
    stored = api.get(f"{V2}/pages/{created['id']}", params={"body-format": "storage"}).json()["body"]["storage"]
    assert created["body"]["storage"] == stored and stored["representation"] == "storage"
    assert "<br />" in stored["value"] and 'ac:schema-version="1"' in stored["value"]  # as stored, not as sent
    updated = update_page(api, created, body="<p>Second</p>")
    assert updated.status_code == 200, updated.text
    assert updated.json()["body"]["storage"] == {"representation": "storage", "value": "<p>Second</p>"}
