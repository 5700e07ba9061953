"""Folders in the sandbox, as Confluence Cloud has them: content of their own type in the
page tree, under a page, a folder or the space's root, holding pages and folders.

Every exchange goes through ``api`` (tests/conftest.py), which fails the test when a
request or response breaks Atlassian's OpenAPI documents.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.sandbox import make_page, storage, update_page

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
FOLDER_TITLE_TAKEN = "A folder exists with the same title in this space"


def make_folder(api: httpx.Client, space: dict[str, Any], title: str, parent: str | None = None) -> dict[str, Any]:
    payload = {"spaceId": space["id"], "title": title}
    if parent is not None:
        payload["parentId"] = parent
    response = api.post(f"{V2}/folders", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def error_title(response: httpx.Response) -> str:
    return response.json()["errors"][0]["title"]


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def test_a_folder_is_created_and_read_in_cloud_shape(api: httpx.Client, space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Guides", parent=space["homepageId"])
    assert folder["type"] == "folder" and folder["status"] == "current" and folder["title"] == "Guides"
    assert folder["parentId"] == space["homepageId"] and folder["parentType"] == "page"
    assert folder["spaceId"] == space["id"] and folder["version"]["number"] == 1
    assert folder["_links"]["webui"] == f"/spaces/DOCS/folder/{folder['id']}"
    assert folder["_links"]["base"].endswith("/wiki")
    assert api.get(f"{V2}/folders/{folder['id']}").json() == folder
    # Folders and pages share one sequence of ids.
    page = make_page(api, space, "After the folder")
    assert int(page["id"]) > int(folder["id"])


def test_a_folder_without_a_parent_stands_at_the_space_root(api: httpx.Client, space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Loose")
    assert folder["parentId"] is None and folder["parentType"] is None
    assert api.post(f"{V2}/folders", json={"spaceId": space["id"]}).status_code == 400  # a title is needed
    missing = api.post(f"{V2}/folders", json={"spaceId": space["id"], "title": "Orphan", "parentId": "424242"})
    assert missing.status_code == 404


def test_pages_and_folders_nest_in_each_other(api: httpx.Client, space: dict[str, Any]) -> None:
    top = make_page(api, space, "Top")
    folder = make_folder(api, space, "Box", parent=top["id"])
    inner = make_folder(api, space, "Inner box", parent=folder["id"])
    assert inner["parentId"] == folder["id"] and inner["parentType"] == "folder"
    in_folder = make_page(api, space, "In the box", parent=folder["id"])
    assert in_folder["parentId"] == folder["id"] and in_folder["parentType"] == "folder"
    under_page = make_page(api, space, "Under a page in the box", parent=in_folder["id"])
    assert under_page["parentType"] == "page"
    fetched = api.get(f"{V2}/pages/{in_folder['id']}").json()
    assert (fetched["parentId"], fetched["parentType"]) == (folder["id"], "folder")

    moved = update_page(api, top, parentId=inner["id"])  # a folder's page moves into its own folder: a cycle
    assert moved.status_code == 400
    loose = make_page(api, space, "Loose page")
    moved = update_page(api, loose, parentId=inner["id"])
    assert moved.status_code == 200, moved.text
    assert (moved.json()["parentId"], moved.json()["parentType"]) == (inner["id"], "folder")


def test_page_listings_give_parent_types_and_never_list_folders(api: httpx.Client, space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Shelf", parent=space["homepageId"])
    page = make_page(api, space, "On the shelf", parent=folder["id"])
    plain = make_page(api, space, "Under home")
    for listing in (api.get(f"{V2}/spaces/{space['id']}/pages"), api.get(f"{V2}/pages",
                                                                          params={"space-id": space["id"]})):
        rows = {row["id"]: row for row in listing.json()["results"]}
        assert folder["id"] not in rows
        assert (rows[page["id"]]["parentId"], rows[page["id"]]["parentType"]) == (folder["id"], "folder")
        assert (rows[plain["id"]]["parentId"], rows[plain["id"]]["parentType"]) == (space["homepageId"], "page")
        assert rows[space["homepageId"]]["parentType"] is None
    by_title = api.get(f"{V2}/pages", params={"title": "Shelf"}).json()["results"]
    assert by_title == []


def test_page_routes_do_not_find_a_folder(api: httpx.Client, space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Not a page")
    fid = folder["id"]
    for path in ("", "/versions", "/properties", "/labels", "/attachments", "/footer-comments", "/operations",
                 "/children", "/ancestors", "/descendants"):
        response = api.get(f"{V2}/pages/{fid}{path}")
        assert response.status_code == 404, path
    assert error_title(api.get(f"{V2}/pages/{fid}")) == f"Cannot find a page with id [{fid}]"
    children = api.get(f"{V2}/pages/{fid}/direct-children")
    assert children.status_code == 404 and error_title(children) == f"Cannot find [page] entity with id [{fid}]"
    update = api.put(f"{V2}/pages/{fid}", json={"id": fid, "status": "current", "title": "Not a page",
                                                "body": storage("<p>x</p>"), "version": {"number": 2}})
    assert update.status_code == 404
    assert api.put(f"{V2}/pages/{fid}/title", json={"status": "current", "title": "Renamed"}).status_code == 404
    assert api.delete(f"{V2}/pages/{fid}").status_code == 404
    assert api.get(f"{V2}/folders/{fid}").json()["status"] == "current"  # none of that touched it


def test_folder_routes_do_not_find_a_page(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Not a folder")
    for path in ("", "/direct-children", "/ancestors", "/descendants"):
        response = api.get(f"{V2}/folders/{page['id']}{path}")
        assert response.status_code == 404, path
    assert error_title(api.get(f"{V2}/folders/{page['id']}")) == f"Content with id: [{page['id']}] not found"
    assert api.delete(f"{V2}/folders/{page['id']}").status_code == 404
    assert api.get(f"{V2}/pages/{page['id']}").json()["status"] == "current"


def test_children_leave_folders_out_and_direct_children_and_descendants_have_them(
        api: httpx.Client, space: dict[str, Any]) -> None:
    top = make_page(api, space, "Parent page")
    first = make_page(api, space, "First child", parent=top["id"])
    folder = make_folder(api, space, "Child folder", parent=top["id"])
    inside = make_page(api, space, "Inside the folder", parent=folder["id"])
    deeper = make_page(api, space, "Deeper", parent=inside["id"])

    assert ids(api.get(f"{V2}/pages/{top['id']}/children").json()["results"]) == [first["id"]]
    direct = api.get(f"{V2}/pages/{top['id']}/direct-children").json()["results"]
    assert [(row["id"], row["type"]) for row in direct] == [(first["id"], "page"), (folder["id"], "folder")]
    assert all("spaceId" not in row for row in direct)  # live rows carry none

    below = api.get(f"{V2}/pages/{top['id']}/descendants", params={"depth": 3}).json()["results"]
    by_id = {row["id"]: row for row in below}
    assert set(by_id) == {first["id"], folder["id"], inside["id"], deeper["id"]}
    assert (by_id[folder["id"]]["type"], by_id[folder["id"]]["depth"]) == ("folder", 1)
    assert (by_id[inside["id"]]["parentId"], by_id[inside["id"]]["depth"]) == (folder["id"], 2)
    assert by_id[deeper["id"]]["depth"] == 3

    assert ids(api.get(f"{V2}/folders/{folder['id']}/direct-children").json()["results"]) == [inside["id"]]
    in_folder = api.get(f"{V2}/folders/{folder['id']}/descendants", params={"depth": 1}).json()["results"]
    assert ids(in_folder) == [inside["id"]]
    assert api.get(f"{V2}/folders/{folder['id']}/descendants", params={"depth": 11}).status_code == 400

    chain = api.get(f"{V2}/pages/{deeper['id']}/ancestors").json()["results"]
    assert [(row["id"], row["type"]) for row in chain] == [
        (space["homepageId"], "page"), (top["id"], "page"), (folder["id"], "folder"), (inside["id"], "page")]
    folder_chain = api.get(f"{V2}/folders/{folder['id']}/ancestors").json()["results"]
    assert ids(folder_chain) == [space["homepageId"], top["id"]]


def test_folder_titles_clash_only_with_folders(api: httpx.Client, space: dict[str, Any]) -> None:
    make_folder(api, space, "Reference")
    clash = api.post(f"{V2}/folders", json={"spaceId": space["id"], "title": "reference"})
    assert clash.status_code == 400 and error_title(clash) == FOLDER_TITLE_TAKEN
    # A folder's title never blocks a page's, nor a page's a folder's.
    assert make_page(api, space, "Reference")["title"] == "Reference"
    make_page(api, space, "Handbook")
    assert make_folder(api, space, "Handbook")["title"] == "Handbook"
    other = api.post(f"{V2}/spaces", json={"name": "Other", "key": "OTHER"}).json()
    assert make_folder(api, other, "Reference")["spaceId"] == other["id"]


def test_deleting_a_folder_moves_it_to_the_trash_and_frees_its_title(api: httpx.Client,
                                                                      space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Temporary", parent=space["homepageId"])
    assert api.delete(f"{V2}/folders/{folder['id']}").status_code == 204
    trashed = api.get(f"{V2}/folders/{folder['id']}").json()
    assert trashed["status"] == "trashed" and trashed["parentId"] is None and trashed["parentType"] is None
    assert api.delete(f"{V2}/folders/{folder['id']}").status_code == 404
    direct = api.get(f"{V2}/pages/{space['homepageId']}/direct-children").json()["results"]
    assert folder["id"] not in ids(direct)
    assert make_folder(api, space, "Temporary")["id"] != folder["id"]


def test_trashing_a_folder_leaves_its_children_archived_with_no_parent(api: httpx.Client,
                                                                        space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Emptied", parent=space["homepageId"])
    page = make_page(api, space, "Was in the folder", parent=folder["id"])
    below = make_page(api, space, "Under that page", parent=page["id"])
    inner = make_folder(api, space, "Inner folder", parent=folder["id"])
    assert api.delete(f"{V2}/folders/{folder['id']}").status_code == 204
    archived = api.get(f"{V2}/pages/{page['id']}").json()
    assert archived["status"] == "archived" and archived["parentId"] is None and archived["parentType"] is None
    inner_now = api.get(f"{V2}/folders/{inner['id']}").json()
    assert inner_now["status"] == "archived" and inner_now["parentId"] is None
    kept = api.get(f"{V2}/pages/{below['id']}").json()
    assert kept["status"] == "current" and kept["parentId"] == page["id"]


def test_trashing_a_page_archives_a_folder_under_it(api: httpx.Client, space: dict[str, Any]) -> None:
    page = make_page(api, space, "Holds a folder")
    folder = make_folder(api, space, "Held", parent=page["id"])
    inside = make_page(api, space, "Held page", parent=folder["id"])
    api.delete(f"{V2}/pages/{page['id']}")
    held = api.get(f"{V2}/folders/{folder['id']}").json()
    assert (held["status"], held["parentId"], held["parentType"]) == ("archived", None, None)
    assert api.get(f"{V2}/pages/{inside['id']}").json()["parentType"] == "folder"
    assert ids(api.get(f"{V2}/folders/{folder['id']}/direct-children").json()["results"]) == [inside["id"]]


def test_a_trashed_folder_holds_no_pages(api: httpx.Client, space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Bin")
    api.delete(f"{V2}/folders/{folder['id']}")
    response = api.post(f"{V2}/pages", json={"spaceId": space["id"], "title": "Into the bin",
                                             "parentId": folder["id"], "body": storage("")})
    assert response.status_code == 404


def test_a_view_only_space_refuses_folders(api: httpx.Client, space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Kept")
    api.put("/_sandbox/permissions", json={"read_only_spaces": ["DOCS"]})
    refused = api.post(f"{V2}/folders", json={"spaceId": space["id"], "title": "Refused"})
    assert refused.status_code == 404 and "permission" in error_title(refused)
    assert api.delete(f"{V2}/folders/{folder['id']}").status_code == 404
    assert api.get(f"{V2}/folders/{folder['id']}").json()["status"] == "current"


# -- v1 move ------------------------------------------------------------------------------


def move(api: httpx.Client, page: dict[str, Any], position: str, target: dict[str, Any]) -> httpx.Response:
    return api.put(f"{V1}/content/{page['id']}/move/{position}/{target['id']}")


def test_v1_move_appends_a_page_to_a_folder(api: httpx.Client, space: dict[str, Any]) -> None:
    folder = make_folder(api, space, "Destination")
    already = make_page(api, space, "Already there", parent=folder["id"])
    page = make_page(api, space, "Travelling")
    before = api.get(f"{V2}/pages/{page['id']}").json()["version"]["number"]
    response = move(api, page, "append", folder)
    assert response.status_code == 200 and response.json() == {"pageId": page["id"]}
    moved = api.get(f"{V2}/pages/{page['id']}").json()
    assert (moved["parentId"], moved["parentType"]) == (folder["id"], "folder")
    assert moved["version"]["number"] == before  # a move is not an edit
    rows = api.get(f"{V2}/folders/{folder['id']}/direct-children").json()["results"]
    assert ids(rows) == [already["id"], page["id"]]


def test_v1_move_before_and_after_orders_siblings(api: httpx.Client, space: dict[str, Any]) -> None:
    parent = make_page(api, space, "Siblings")
    a, b, c = (make_page(api, space, name, parent=parent["id"]) for name in ("A", "B", "C"))
    assert move(api, c, "before", a).status_code == 200
    order = api.get(f"{V2}/pages/{parent['id']}/direct-children").json()["results"]
    assert ids(order) == [c["id"], a["id"], b["id"]]
    assert move(api, c, "after", b).status_code == 200
    order = api.get(f"{V2}/pages/{parent['id']}/direct-children").json()["results"]
    assert ids(order) == [a["id"], b["id"], c["id"]]
    positions = [row["childPosition"] for row in order]
    assert positions == sorted(positions) and len(set(positions)) == 3


@pytest.mark.parametrize("case", ["loop", "unknown target", "bad position"])
def test_v1_move_refusals(api: httpx.Client, space: dict[str, Any], case: str) -> None:
    top = make_page(api, space, "Moving top")
    child = make_page(api, space, "Moving child", parent=top["id"])
    if case == "loop":
        response = move(api, top, "append", child)
        assert response.status_code == 400
    elif case == "unknown target":
        response = move(api, child, "append", {"id": "424242"})
        assert response.status_code == 404
    else:
        with httpx.Client(base_url=str(api.base_url), auth=api.auth) as plain:  # outside the documented enum
            response = plain.put(f"{V1}/content/{child['id']}/move/inside/{top['id']}")
        assert response.status_code == 400
    assert response.json()["statusCode"] == response.status_code  # v1's envelope
    assert api.get(f"{V2}/pages/{child['id']}").json()["parentId"] == top["id"]
