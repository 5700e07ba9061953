"""The sandbox: a Starlette app that behaves like Confluence Cloud for what mdsync touches.

REST API v2 under ``/wiki/api/v2``, the few v1 routes v2 lacks under ``/wiki/rest/api``,
the api.atlassian.com and Maton gateway forms (see ``middleware.py``), an HTML preview
(``web.py``) and a small admin API under ``/_sandbox`` for tests (faults, counters,
permissions, and a colleague's edit in the Cloud editor: ``editor.py``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mdsync.errors import MdsyncError
from mdsync.sandbox import shapes
from mdsync.sandbox.cql import CqlError, user_filter
from mdsync.sandbox.editor import ImageSizes, editor_resave, image_size
from mdsync.sandbox.faults import Faults
from mdsync.sandbox.middleware import Credentials, SandboxMiddleware, Stats
from mdsync.sandbox.store import (
    ATTACHMENT,
    BLOGPOST,
    FOLDER,
    MAX_BODY_BYTES,
    PAGE,
    TREE_KINDS,
    ApiError,
    Content,
    SortKey,
    Store,
    TextSelection,
    storage_refusal,
)
from mdsync.storage.xhtml import StorageParseError

DEFAULT_EMAIL = "sandbox@example.com"
DEFAULT_TOKEN = "sandbox-token"
V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Sandbox:
    """Everything one running sandbox holds; ``app`` is what uvicorn serves."""

    store: Store
    credentials: Credentials
    faults: Faults
    stats: Stats
    app: Any
    # Spaces the signed-in user may view but not add to or edit (PUT /_sandbox/permissions).
    read_only_spaces: set[str] = field(default_factory=set)


# -- request helpers ----------------------------------------------------------------------


def _site(request: Request) -> shapes.Site:
    sandbox: Sandbox = request.app.state.sandbox
    return shapes.Site(store=sandbox.store, base=f"{request.url.scheme}://{request.url.netloc}/wiki",
                       email=sandbox.credentials.email)


def _store(request: Request) -> Store:
    return request.app.state.sandbox.store


def _require_write(request: Request, space_id: int) -> None:
    """A user who may only view the space may not add to it or change it: v2 answers 404, as
    its OpenAPI document says of a missing create, update or delete permission; v1 (and the
    Cloud editor, /_sandbox/.../editor-save) answer 403."""
    sandbox: Sandbox = request.app.state.sandbox
    if _store(request).space(space_id).key.upper() in sandbox.read_only_spaces:
        raise ApiError(404 if request.url.path.startswith(V2) else 403,
                       "You do not have permission to add or change content in this space")


def _space_operations(request: Request, space_id: int) -> list[dict[str, str]]:
    sandbox: Sandbox = request.app.state.sandbox
    operations = [{"operation": "read", "targetType": "space"}]
    if _store(request).space(space_id).key.upper() not in sandbox.read_only_spaces:
        operations += [{"operation": "create", "targetType": target} for target in ("page", "blogpost", "attachment",
                                                                                     "comment")]
    return operations


def _int(value: str | None, name: str, *, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"Parameter '{name}' must be an integer, got '{value}'") from None


def _path_id(request: Request, name: str = "id") -> int:
    raw = request.path_params[name]
    if raw.startswith("att") and name in ("id", "attachment_id"):
        raw = raw[3:]
    parsed = _int(raw, name)
    assert parsed is not None
    return parsed


def _list(request: Request, name: str) -> list[str] | None:
    """Array parameters come comma-separated, repeated, or both."""
    values = [part.strip() for raw in request.query_params.getlist(name) for part in raw.split(",")]
    values = [value for value in values if value]
    return values or None


def _bool(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"Parameter '{name}' must be true or false, got '{raw}'")


def _choice(request: Request, name: str, allowed: Sequence[str], default: str | None = None) -> str | None:
    value = request.query_params.get(name, default)
    if value is not None and value not in allowed:
        raise ApiError(400, f"Parameter '{name}' must be one of {', '.join(allowed)}; got '{value}'")
    return value


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "Request entity too large: the limit is 5 MB")
    try:
        data = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return data


def _storage_from(body: Any, *, required: bool) -> str:
    """Accept both body shapes the API allows: {representation, value} and {storage: {...}}."""
    if body is None:
        if required:
            raise ApiError(400, "body is required")
        return ""
    if not isinstance(body, dict):
        raise ApiError(400, "body must be an object")
    if "representation" not in body and len(body) == 1:
        (representation, body), = body.items()
        if not isinstance(body, dict):
            raise ApiError(400, "body must be an object")
        body = {"representation": representation, **body}
    representation = body.get("representation")
    if representation != "storage":
        raise ApiError(400, f"The sandbox accepts only the storage representation, not '{representation}'")
    value = body.get("value", "")
    if not isinstance(value, str):
        raise ApiError(400, "body.value must be a string")
    return value


def _id_from(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ApiError(400, f"{name} must be a numeric id, got '{value}'") from None


# -- pagination ---------------------------------------------------------------------------


_BAD_CURSOR = "The cursor is not valid; start again without one"


def _encode_cursor(field: str, value: Any) -> str:
    """An opaque cursor: base64 of a one-field JSON object, as Confluence's look."""
    return base64.urlsafe_b64encode(json.dumps({field: value}).encode()).decode().rstrip("=")


def _cursor_value(cursor: str, field: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded))[field]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiError(400, _BAD_CURSOR) from None


def _decode_offset(cursor: str) -> int:
    offset = _cursor_value(cursor, "o")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ApiError(400, _BAD_CURSOR)
    return offset


def _limit(request: Request, default_limit: int) -> int:
    limit = _int(request.query_params.get("limit"), "limit", default=default_limit)
    assert limit is not None
    if not 1 <= limit <= 250:
        raise ApiError(400, f"Parameter 'limit' must be between 1 and 250, got {limit}")
    return limit


def _next_link(request: Request, cursor: str) -> str:
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "cursor"]
    query.append(("cursor", cursor))
    # The next link is site-relative with /wiki, even through a gateway, as Confluence gives it.
    return f"{request.url.path}?{urlencode(query)}"


def _page_of(request: Request, items: Sequence[Any], default_limit: int = 25) -> tuple[Sequence[Any], str | None]:
    limit = _limit(request, default_limit)
    cursor = request.query_params.get("cursor")
    offset = _decode_offset(cursor) if cursor else 0
    chunk = items[offset : offset + limit]
    if offset + limit >= len(items):
        return chunk, None
    return chunk, _next_link(request, _encode_cursor("o", offset + limit))


def _decode_key(cursor: str) -> SortKey:
    key = _cursor_value(cursor, "k")
    if not (isinstance(key, list) and len(key) == 2):
        raise ApiError(400, _BAD_CURSOR)
    value, row_id = key
    if type(row_id) is not int or not (type(value) is int or isinstance(value, str)):
        raise ApiError(400, _BAD_CURSOR)
    return value, row_id


def _listing(request: Request, results: list[Any], next_link: str | None) -> JSONResponse:
    site = _site(request)
    links: dict[str, str] = {"base": site.base}
    headers = {}
    if next_link:
        links["next"] = next_link
        headers["Link"] = f'<{next_link}>; rel="next", <{site.base}>; rel="base"'
    return JSONResponse({"results": results, "_links": links}, headers=headers)


def _paged(request: Request, items: Sequence[Any], render: Callable[[Any], Any], default_limit: int = 25) -> JSONResponse:
    chunk, next_link = _page_of(request, items, default_limit)
    return _listing(request, [render(item) for item in chunk], next_link)


# -- rendering bodies ---------------------------------------------------------------------


def _view_html(request: Request, content: Content) -> str:
    from mdsync.sandbox.web import render_content

    try:
        return render_content(_store(request), content)
    except MdsyncError as error:
        return f"<p>(this page's storage could not be rendered: {error})</p>"


def _content_json(request: Request, content: Content, *, single: bool, formats: Sequence[str],
                  written: bool = False) -> dict[str, Any]:
    """The content as Cloud answers it. A create or update (``written``) answers the body as it
    was stored, in storage format: clients read the stored body back from that answer."""
    body_format = request.query_params.get("body-format") or ("storage" if written else None)
    if body_format is not None and body_format not in formats:
        raise ApiError(400, f"Parameter 'body-format' must be one of {', '.join(formats)}; got '{body_format}'")
    if body_format == "atlas_doc_format":
        raise ApiError(400, "The sandbox serves storage and view bodies only, not atlas_doc_format")
    view = _view_html(request, content) if body_format and body_format.endswith("view") else None
    return shapes.content_json(_site(request), content, body_format=body_format, view=view, single=single)


_SINGLE_FORMATS = ("storage", "atlas_doc_format", "view", "export_view", "anonymous_export_view", "styled_view")
_BULK_FORMATS = ("storage", "atlas_doc_format")
_CONTENT_SORTS = ("id", "-id", "created-date", "-created-date", "modified-date", "-modified-date", "title", "-title")
_LIST_STATUSES = ("current", "archived", "deleted", "trashed")


# -- spaces -------------------------------------------------------------------------------


async def list_spaces(request: Request) -> Response:
    store = _store(request)
    ids = [_int(value, "ids") for value in _list(request, "ids") or []] or None
    sort = _choice(request, "sort", ("id", "-id", "key", "-key", "name", "-name"), "id")
    description_format = _choice(request, "description-format", ("plain", "view"))
    spaces = store.spaces(ids=ids, keys=_list(request, "keys"), status=request.query_params.get("status"),
                          type=request.query_params.get("type"), sort=sort or "id")
    site = _site(request)
    return _paged(request, spaces, lambda space: shapes.space_json(site, space, description_format))


async def get_space(request: Request) -> Response:
    store = _store(request)
    space = store.space(_path_id(request))
    description_format = _choice(request, "description-format", ("plain", "view"))
    return JSONResponse(shapes.space_json(_site(request), space, description_format))


async def create_space(request: Request) -> Response:
    data = await _body(request)
    key = data.get("key") or data.get("alias")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required")
    if not isinstance(key, str):
        raise ApiError(400, "key or alias is required")
    description = data.get("description") or {}
    space = _store(request).create_space(key, name.strip(), str(description.get("value", "")))
    return JSONResponse(shapes.space_json(_site(request), space), status_code=201)


async def space_contents(request: Request, kind: str) -> Response:
    store = _store(request)
    space = store.space(_path_id(request))
    depth = _choice(request, "depth", ("all", "root"), "all") if kind == PAGE else "all"
    return _list_contents(request, kind, space_ids=[space.id], root_only=depth == "root")


# -- pages and blog posts -----------------------------------------------------------------


def _list_contents(request: Request, kind: str, *, space_ids: list[int] | None = None,
                   root_only: bool = False) -> Response:
    statuses = _list(request, "status")
    for status in statuses or []:
        if status not in _LIST_STATUSES:
            raise ApiError(400, f"Parameter 'status' must be among {', '.join(_LIST_STATUSES)}; got '{status}'")
    sort = _choice(request, "sort", _CONTENT_SORTS, "id") or "id"
    ids = [_int(value, "id") for value in _list(request, "id") or []] or None
    if space_ids is None and _list(request, "space-id"):
        space_ids = [int(_int(value, "space-id") or 0) for value in _list(request, "space-id") or []]
    title = request.query_params.get("title")
    limit = _limit(request, 25)
    cursor = request.query_params.get("cursor")
    # Keyset paging: each request reads only the rows it answers, as Confluence's cursors do.
    items, last = _store(request).contents_page(kind, ids=ids, space_ids=space_ids, statuses=statuses, title=title,
                                                root_only=root_only, sort=sort,
                                                after=_decode_key(cursor) if cursor else None, limit=limit)
    return _listing(request, [_content_json(request, item, single=False, formats=_BULK_FORMATS) for item in items],
                    _next_link(request, _encode_cursor("k", list(last))) if last is not None else None)


def _include_meta(request: Request, content: Content, data: dict[str, Any]) -> None:
    """The include-* expansions of a single GET: at most 50 items plus meta, as Confluence does."""
    store = _store(request)
    base = f"{V2}/{'pages' if content.type == PAGE else 'blogposts'}/{content.id}"

    def block(results: list[Any], path: str) -> dict[str, Any]:
        return {"results": results[:50], "meta": {"hasMore": len(results) > 50, "cursor": ""},
                "_links": {"self": f"{base}/{path}"}}

    if _bool(request, "include-labels"):
        data["labels"] = block([shapes.label_json(label) for label in store.labels(content.id)], "labels")
    if _bool(request, "include-properties"):
        data["properties"] = block([shapes.property_json(prop) for prop in store.properties(content.id, content.type)],
                                   "properties")
    if _bool(request, "include-versions"):
        versions = list(reversed(store.versions(content.id)))
        data["versions"] = block([shapes.version_json(v.version, v.version_created_at, v.version_message,
                                                      v.version_minor) for v in versions], "versions")
    if not _bool(request, "include-version", True):
        data.pop("version", None)


async def get_content(request: Request, kind: str) -> Response:
    content_id = _path_id(request)
    version = _int(request.query_params.get("version"), "version")
    content = _store(request).content(content_id, kind, version=version)
    if content.status == "draft" and not _bool(request, "get-draft") and "draft" not in (_list(request, "status") or []):
        raise ApiError(404, f"Cannot find a {'page' if kind == PAGE else 'blog post'} with id [{content_id}]")
    data = _content_json(request, content, single=True, formats=_SINGLE_FORMATS)
    _include_meta(request, content, data)
    return JSONResponse(data)


async def _create_request(request: Request) -> tuple[dict[str, Any], int, str | None]:
    """A create's body, space id and title, once the user may add to that space."""
    data = await _body(request)
    space_id = _id_from(data.get("spaceId"), "spaceId")
    if space_id is None:
        raise ApiError(400, "spaceId is required")
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise ApiError(400, "title must be a string")
    _require_write(request, space_id)
    return data, space_id, title


async def create_content(request: Request, kind: str) -> Response:
    data, space_id, title = await _create_request(request)
    content = _store(request).create_content(
        kind,
        space_id=space_id,
        title=title,
        body=_storage_from(data.get("body"), required=False),
        parent_id=_id_from(data.get("parentId"), "parentId") if kind == PAGE else None,
        root_level=_bool(request, "root-level") if kind == PAGE else False,
        status=data.get("status") or "current",
    )
    return JSONResponse(_content_json(request, content, single=True, formats=_SINGLE_FORMATS, written=True))


async def update_content(request: Request, kind: str) -> Response:
    content_id = _path_id(request)
    data = await _body(request)
    missing = [name for name in ("id", "status", "title", "body", "version") if name not in data]
    if missing:
        raise ApiError(400, f"Missing required field(s): {', '.join(missing)}")
    if str(data["id"]) != str(content_id):
        raise ApiError(400, f"The id in the body ({data['id']}) does not match the id in the path ({content_id})")
    version = data.get("version") or {}
    if not isinstance(version, dict):
        raise ApiError(400, "version must be an object with a number")
    number = version.get("number")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
        raise ApiError(400, "version.number must be an integer")
    title = data["title"]
    if not isinstance(title, str):
        raise ApiError(400, "title must be a string")
    _require_write(request, _store(request).content(content_id, kind).space_id)
    content = _store(request).update_content(
        kind,
        content_id,
        title=title,
        body=_storage_from(data.get("body"), required=True),
        status=str(data["status"]),
        version=number,
        message=str(version.get("message") or ""),
        minor_edit=bool(version.get("minorEdit", False)),
        parent_id=_id_from(data.get("parentId"), "parentId") if kind == PAGE else None,
        space_id=_id_from(data.get("spaceId"), "spaceId"),
    )
    return JSONResponse(_content_json(request, content, single=True, formats=_SINGLE_FORMATS, written=True))


async def rename_page(request: Request) -> Response:
    data = await _body(request)
    title = data.get("title")
    if not isinstance(title, str):
        raise ApiError(400, "title is required")
    _require_write(request, _store(request).content(_path_id(request), PAGE).space_id)
    content = _store(request).rename_content(_path_id(request), title, str(data.get("status") or "current"))
    return JSONResponse(_content_json(request, content, single=True, formats=_SINGLE_FORMATS))


async def delete_content(request: Request, kind: str) -> Response:
    _require_write(request, _store(request).content(_path_id(request), kind).space_id)
    _store(request).delete_content(kind, _path_id(request), purge=_bool(request, "purge"),
                                   draft=_bool(request, "draft"))
    return Response(status_code=204)


async def page_children(request: Request) -> Response:
    """The deprecated /children: pages only, so folders (and all below them) are left out."""
    sort = _choice(request, "sort", ("created-date", "-created-date", "id", "-id", "child-position",
                                     "-child-position", "modified-date", "-modified-date"), "child-position")
    children = _store(request).children(_path_id(request))
    children = _sorted_children(children, sort or "child-position")

    def row(child: Content) -> dict[str, Any]:
        return {"id": str(child.id), "status": child.status, "title": child.title,
                "spaceId": str(child.space_id), "childPosition": child.position}

    return _paged(request, children, row)


def _sorted_children(children: list[Content], sort: str) -> list[Content]:
    keys: dict[str, Callable[[Content], Any]] = {
        "child-position": lambda c: (c.position or 0, c.id), "id": lambda c: c.id,
        "created-date": lambda c: (c.created_at, c.id), "modified-date": lambda c: (c.version_created_at, c.id),
        "title": lambda c: (c.title.lower(), c.id),
    }
    return sorted(children, key=keys[sort.lstrip("-")], reverse=sort.startswith("-"))


def _tree_node(request: Request, kind: str) -> int:
    """The page or folder a hierarchy route starts from, in Cloud's wording when it is not one."""
    node_id = _path_id(request)
    try:
        _store(request).content(node_id, kind)
    except ApiError as error:
        if kind != PAGE:
            raise
        raise ApiError(404, f"Cannot find [page] entity with id [{node_id}]") from error
    return node_id


async def direct_children(request: Request, kind: str) -> Response:
    """Pages and folders right under a page or folder (ChildrenResponse rows)."""
    sort = _choice(request, "sort", ("created-date", "-created-date", "id", "-id", "modified-date",
                                     "-modified-date", "child-position", "-child-position", "title", "-title"),
                   "child-position")
    children = _store(request).children(_tree_node(request, kind), kind, TREE_KINDS)
    return _paged(request, _sorted_children(children, sort or "child-position"), shapes.child_json)


async def ancestors(request: Request, kind: str) -> Response:
    limit = _int(request.query_params.get("limit"), "limit", default=25)
    assert limit is not None
    if not 1 <= limit <= 250:
        raise ApiError(400, f"Parameter 'limit' must be between 1 and 250, got {limit}")
    chain = _store(request).ancestors(_path_id(request), kind)
    # The nearest ancestors, top-down; ask again from the first one to climb further.
    results = [{"id": str(ancestor), "type": ancestor_kind} for ancestor, ancestor_kind in chain[-limit:]]
    return JSONResponse({"results": results, "_links": {"base": _site(request).base}})


async def descendants(request: Request, kind: str) -> Response:
    depth = _int(request.query_params.get("depth"), "depth", default=2)
    assert depth is not None
    if not 1 <= depth <= 10:
        raise ApiError(400, f"Parameter 'depth' must be between 1 and 10, got {depth}")
    found = _store(request).descendants(_path_id(request), depth, kind)

    def row(item: tuple[Content, int]) -> dict[str, Any]:
        child, level = item
        return {"id": str(child.id), "status": child.status, "title": child.title, "type": child.type,
                "parentId": str(child.parent_id), "depth": level, "childPosition": child.position}

    return _paged(request, found, row)


# -- folders ------------------------------------------------------------------------------


async def create_folder(request: Request) -> Response:
    data, space_id, title = await _create_request(request)
    folder = _store(request).create_folder(space_id=space_id, title=title,
                                           parent_id=_id_from(data.get("parentId"), "parentId"))
    return JSONResponse(shapes.folder_json(_site(request), folder, single=True))


async def get_folder(request: Request) -> Response:
    folder = _store(request).content(_path_id(request), FOLDER)
    return JSONResponse(shapes.folder_json(_site(request), folder, single=True))


async def delete_folder(request: Request) -> Response:
    folder_id = _path_id(request)
    _require_write(request, _store(request).content(folder_id, FOLDER).space_id)
    _store(request).delete_content(FOLDER, folder_id)
    return Response(status_code=204)


async def content_versions(request: Request, kind: str) -> Response:
    body_format = _choice(request, "body-format", ("storage", "atlas_doc_format"))
    sort = _choice(request, "sort", ("modified-date", "-modified-date"), "-modified-date")
    versions = _store(request).versions(_path_id(request), kind)
    if sort == "-modified-date":
        versions = list(reversed(versions))

    def row(version: Content) -> dict[str, Any]:
        entity: dict[str, Any] = {"id": str(version.id), "title": version.title, "body": {}}
        if body_format == "storage":
            entity["body"] = {"storage": {"representation": "storage", "value": version.body}}
        data = shapes.version_json(version.version, version.version_created_at, version.version_message,
                                   version.version_minor)
        data["page" if kind == PAGE else "blogpost"] = entity
        return data

    return _paged(request, versions, row)


async def content_version_detail(request: Request, kind: str) -> Response:
    content_id = _path_id(request, "id")
    number = _path_id(request, "version")
    store = _store(request)
    version = store.content(content_id, kind, version=number)
    latest = store.content(content_id, kind).version
    data = shapes.version_json(version.version, version.version_created_at, version.version_message,
                               version.version_minor)
    data.update({"contentTypeModified": False, "collaborators": [shapes.ACCOUNT_ID]})
    if number > 1:
        data["prevVersion"] = number - 1
    if number < latest:
        data["nextVersion"] = number + 1
    return JSONResponse(data)


# -- content properties -------------------------------------------------------------------


async def list_properties(request: Request, kind: str) -> Response:
    _choice(request, "sort", ("key", "-key"))
    props = _store(request).properties(_path_id(request), kind, request.query_params.get("key"))
    if request.query_params.get("sort") == "-key":
        props = list(reversed(props))
    return _paged(request, props, shapes.property_json)


def _require_property_write(request: Request, kind: str) -> None:
    _require_write(request, _store(request).property_owner_space(_path_id(request), kind))


async def create_property(request: Request, kind: str) -> Response:
    data = await _body(request)
    key = data.get("key")
    if not isinstance(key, str):
        raise ApiError(400, "key is required")
    _require_property_write(request, kind)
    prop = _store(request).create_property(_path_id(request), kind, key, data.get("value"))
    return JSONResponse(shapes.property_json(prop))


async def get_property(request: Request, kind: str) -> Response:
    prop = _store(request).property(_path_id(request), kind, _path_id(request, "property_id"))
    return JSONResponse(shapes.property_json(prop))


async def update_property(request: Request, kind: str) -> Response:
    data = await _body(request)
    version = data.get("version") or {}
    _require_property_write(request, kind)
    prop = _store(request).update_property(
        _path_id(request), kind, _path_id(request, "property_id"), str(data.get("key")), data.get("value"),
        version.get("number") if isinstance(version, dict) else None,
        str(version.get("message") or "") if isinstance(version, dict) else "",
    )
    return JSONResponse(shapes.property_json(prop))


async def delete_property(request: Request, kind: str) -> Response:
    _require_property_write(request, kind)
    _store(request).delete_property(_path_id(request), kind, _path_id(request, "property_id"))
    return Response(status_code=204)


# -- labels -------------------------------------------------------------------------------


async def list_labels(request: Request, kind: str) -> Response:
    prefix = _choice(request, "prefix", ("my", "team", "global", "system"))
    sort = _choice(request, "sort", ("created-date", "-created-date", "id", "-id", "name", "-name"), "id") or "id"
    labels = _store(request).labels(_path_id(request), kind, prefix)
    key = (lambda label: label.name) if sort.lstrip("-") == "name" else (lambda label: label.id)
    labels = sorted(labels, key=key, reverse=sort.startswith("-"))
    return _paged(request, labels, shapes.label_json)


async def v1_list_labels(request: Request) -> Response:
    labels = _store(request).labels(_path_id(request), None, request.query_params.get("prefix"))
    return JSONResponse({"results": [shapes.label_v1_json(label) for label in labels], "start": 0,
                         "limit": 200, "size": len(labels), "_links": {}})


async def v1_add_labels(request: Request) -> Response:
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "Request body is not valid JSON") from None
    items = data if isinstance(data, list) else [data]
    pairs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ApiError(400, "Each label needs a name (and a prefix: global, my or team)")
        pairs.append((str(item.get("prefix") or "global"), item["name"]))
    _require_write(request, _store(request).content(_path_id(request)).space_id)
    labels = _store(request).add_labels(_path_id(request), pairs)
    return JSONResponse({"results": [shapes.label_v1_json(label) for label in labels], "start": 0,
                         "limit": 200, "size": len(labels), "_links": {}})


async def v1_remove_label_query(request: Request) -> Response:
    name = request.query_params.get("name")
    if not name:
        raise ApiError(400, "Parameter 'name' is required")
    _require_write(request, _store(request).content(_path_id(request)).space_id)
    _store(request).remove_label(_path_id(request), name)
    return Response(status_code=204)


async def v1_remove_label_path(request: Request) -> Response:
    _require_write(request, _store(request).content(_path_id(request)).space_id)
    _store(request).remove_label(_path_id(request), request.path_params["label"])
    return Response(status_code=204)


# -- attachments --------------------------------------------------------------------------


def _attachment_filters(request: Request) -> dict[str, Any]:
    statuses = _list(request, "status")
    for status in statuses or []:
        if status not in ("current", "archived", "trashed"):
            raise ApiError(400, f"Parameter 'status' must be among current, archived, trashed; got '{status}'")
    sort = _choice(request, "sort", ("created-date", "-created-date", "modified-date", "-modified-date"),
                   "created-date")
    return {"statuses": statuses, "filename": request.query_params.get("filename"),
            "media_type": request.query_params.get("mediaType"), "sort": sort or "created-date"}


async def content_attachments(request: Request, kind: str) -> Response:
    store = _store(request)
    owner = store.content(_path_id(request), kind)
    items = store.attachments(owner.id, kind=kind, **_attachment_filters(request))
    site = _site(request)
    return _paged(request, items, lambda item: shapes.attachment_json(site, item, owner), default_limit=50)


async def all_attachments(request: Request) -> Response:
    store = _store(request)
    items = store.attachments(None, **_attachment_filters(request))
    site = _site(request)
    return _paged(request, items, lambda item: shapes.attachment_json(site, item, store.content(item.content_id)),
                  default_limit=50)


async def get_attachment(request: Request) -> Response:
    store = _store(request)
    attachment = store.attachment(_path_id(request))
    return JSONResponse(shapes.attachment_json(_site(request), attachment, store.content(attachment.content_id)))


async def delete_attachment(request: Request) -> Response:
    _require_write(request, _store(request).property_owner_space(_path_id(request), ATTACHMENT))
    _store(request).delete_attachment(_path_id(request), purge=_bool(request, "purge"))
    return Response(status_code=204)


@dataclass(frozen=True)
class _Upload:
    filename: str
    content_type: str | None
    data: bytes


async def _upload_form(request: Request) -> tuple[list[_Upload], list[str], bool]:
    token = request.headers.get("x-atlassian-token", "")
    if token.lower() not in ("no-check", "nocheck"):
        raise ApiError(403, "XSRF check failed: send the header X-Atlassian-Token: no-check")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "Attachments must be uploaded as multipart/form-data")
    async with request.form(max_files=100, max_fields=100, max_part_size=100 * 1024 * 1024) as form:
        files = [_Upload(item.filename or "", item.content_type, await item.read())
                 for item in form.getlist("file") if isinstance(item, UploadFile)]
        comments = [item if isinstance(item, str) else (await item.read()).decode("utf-8", "replace")
                    for item in form.getlist("comment")]
        minor = str(form.get("minorEdit", "false")).lower() == "true"
    if not files:
        raise ApiError(400, "No file was found in the request: send it in a part named 'file'")
    if comments and len(comments) != len(files):
        raise ApiError(400, "Give either no comments or one comment per file")
    return files, comments, minor


async def v1_upload(request: Request) -> Response:
    """POST creates new attachments only; PUT creates or adds a version by file name."""
    files, comments, minor = await _upload_form(request)
    store = _store(request)
    owner = store.content(_path_id(request))
    _require_write(request, owner.space_id)
    replace = request.method == "PUT"
    results = []
    for index, upload in enumerate(files):
        attachment = store.add_attachment(
            owner.id, upload.filename, upload.data, media_type=upload.content_type,
            comment=comments[index] if comments else "", minor_edit=minor, replace=replace,
        )
        results.append(shapes.attachment_v1_json(_site(request), attachment, owner))
    return JSONResponse({"results": results, "start": 0, "limit": 50, "size": len(results),
                         "_links": {"base": _site(request).base, "context": "/wiki"}})


async def v1_upload_version(request: Request) -> Response:
    files, comments, minor = await _upload_form(request)
    store = _store(request)
    owner = store.content(_path_id(request))
    _require_write(request, owner.space_id)
    upload = files[0]
    attachment = store.add_attachment_version(
        _path_id(request, "attachment_id"), upload.data, media_type=upload.content_type,
        comment=comments[0] if comments else "", minor_edit=minor, content_id=owner.id, filename=upload.filename,
    )
    return JSONResponse(shapes.attachment_v1_json(_site(request), attachment, owner))


async def v1_list_attachments(request: Request) -> Response:
    """Missing from the 2026 v1 document but still served by Confluence; start/limit paging."""
    store = _store(request)
    owner = store.content(_path_id(request))
    items = store.attachments(owner.id, filename=request.query_params.get("filename"),
                              media_type=request.query_params.get("mediaType"))
    start = _int(request.query_params.get("start"), "start", default=0) or 0
    limit = _int(request.query_params.get("limit"), "limit", default=50) or 50
    chunk = items[start : start + limit]
    site = _site(request)
    return JSONResponse({"results": [shapes.attachment_v1_json(site, item, owner) for item in chunk],
                         "start": start, "limit": limit, "size": len(chunk),
                         "_links": {"base": site.base, "context": "/wiki"}})


async def v1_download(request: Request) -> Response:
    store = _store(request)
    owner = store.content(_path_id(request))
    attachment = store.attachment(_path_id(request, "attachment_id"))
    if attachment.content_id != owner.id:
        raise ApiError(404, f"Cannot find attachment [att{attachment.id}] on content [{owner.id}]")
    version = _int(request.query_params.get("version"), "version")
    # Through a gateway the file is fetched through the same gateway and credentials.
    prefix = request.scope.get("mdsync.prefix", "")
    return RedirectResponse(f"{prefix}/wiki{shapes.download_path(attachment, version)}", status_code=302)


def _file_response(data: bytes, media_type: str, filename: str, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
    })


async def download(request: Request) -> Response:
    store = _store(request)
    content_id = _path_id(request, "content_id")
    filename = request.path_params["filename"]
    matches = store.attachments(content_id, filename=filename, statuses=["current", "archived", "trashed"])
    if not matches:
        raise ApiError(404, f"Cannot find attachment '{filename}' on content [{content_id}]")
    attachment = matches[0]
    version = _int(request.query_params.get("version"), "version")
    return _file_response(store.attachment_data(attachment.id, version), attachment.media_type,
                          attachment.title, inline=False)


# -- footer comments ----------------------------------------------------------------------


async def content_comments(request: Request, kind: str) -> Response:
    body_format = _choice(request, "body-format", ("storage", "atlas_doc_format"))
    store = _store(request)
    owner = store.content(_path_id(request), kind)
    site = _site(request)
    return _paged(request, store.comments(owner.id, kind),
                  lambda comment: shapes.comment_json(site, comment, owner, body_format))


def _require_comment_write(request: Request, content_id: int | None, comment_id: int | None, *,
                           inline: bool) -> None:
    """Comments need the space's comment permission, which a view-only user lacks."""
    store = _store(request)
    if comment_id is not None:
        content_id = (store.inline_comment(comment_id) if inline else store.comment(comment_id)).content_id
    if content_id is not None:
        _require_write(request, store.content(content_id).space_id)


async def create_comment(request: Request) -> Response:
    data = await _body(request)
    target = data.get("pageId") or data.get("blogPostId")
    store = _store(request)
    _require_comment_write(request, _id_from(target, "pageId"), _id_from(data.get("parentCommentId"),
                                                                         "parentCommentId"), inline=False)
    comment = store.add_comment(_storage_from(data.get("body"), required=True),
                                content_id=_id_from(target, "pageId"),
                                parent_comment_id=_id_from(data.get("parentCommentId"), "parentCommentId"))
    owner = store.content(comment.content_id)
    body = shapes.comment_json(_site(request), comment, owner, "storage")
    return JSONResponse(body, status_code=201, headers={"Location": f"{V2}/footer-comments/{comment.id}"})


async def get_comment(request: Request) -> Response:
    store = _store(request)
    comment = store.comment(_path_id(request, "comment_id"))
    body_format = _choice(request, "body-format", ("storage", "atlas_doc_format", "view"))
    return JSONResponse(shapes.comment_json(_site(request), comment, store.content(comment.content_id),
                                            "storage" if body_format == "storage" else None))


async def update_comment(request: Request) -> Response:
    data = await _body(request)
    version = data.get("version") or {}
    store = _store(request)
    _require_comment_write(request, None, _path_id(request, "comment_id"), inline=False)
    comment = store.update_comment(_path_id(request, "comment_id"), _storage_from(data.get("body"), required=True),
                                   version.get("number") if isinstance(version, dict) else None)
    return JSONResponse(shapes.comment_json(_site(request), comment, store.content(comment.content_id), "storage"))


async def delete_comment(request: Request) -> Response:
    _require_comment_write(request, None, _path_id(request, "comment_id"), inline=False)
    _store(request).delete_comment(_path_id(request, "comment_id"))
    return Response(status_code=204)


# -- inline comments ----------------------------------------------------------------------

_INLINE_STATUSES = ("current", "archived", "trashed", "deleted", "historical", "draft")
_RESOLUTIONS = ("resolved", "open", "dangling", "reopened")


def _values(request: Request, name: str, allowed: Sequence[str]) -> list[str] | None:
    values = _list(request, name)
    for value in values or []:
        if value not in allowed:
            raise ApiError(400, f"Parameter '{name}' must be among {', '.join(allowed)}; got '{value}'")
    return values


async def content_inline_comments(request: Request, kind: str) -> Response:
    """The root inline comments of a page or blog post."""
    body_format = _choice(request, "body-format", ("storage", "atlas_doc_format"))
    sort = _choice(request, "sort", ("created-date", "-created-date", "modified-date", "-modified-date"),
                   "created-date") or "created-date"
    store = _store(request)
    owner = store.content(_path_id(request), kind)
    comments = store.inline_comments(owner.id, kind, statuses=_values(request, "status", _INLINE_STATUSES),
                                     resolutions=_values(request, "resolution-status", _RESOLUTIONS))
    if sort.startswith("-"):
        comments = list(reversed(comments))
    site = _site(request)
    return _paged(request, comments, lambda comment: shapes.inline_comment_json(site, comment, owner, body_format))


def _text_selection(data: dict[str, Any]) -> TextSelection | None:
    properties = data.get("inlineCommentProperties")
    if properties is None:
        return None
    if not isinstance(properties, dict):
        raise ApiError(400, "inlineCommentProperties must be an object")
    text, count, index = (properties.get(name) for name in ("textSelection", "textSelectionMatchCount",
                                                             "textSelectionMatchIndex"))
    if not isinstance(text, str) or not all(isinstance(item, int) and not isinstance(item, bool)
                                            for item in (count, index)):
        raise ApiError(400, "inlineCommentProperties needs textSelection, textSelectionMatchCount and "
                            "textSelectionMatchIndex")
    assert isinstance(count, int) and isinstance(index, int)
    return TextSelection(text, count, index)


async def create_inline_comment(request: Request) -> Response:
    """A comment on the page's text: its storage gains the marker, its version stays."""
    data = await _body(request)
    content_id = _id_from(data.get("pageId") or data.get("blogPostId"), "pageId")
    parent_id = _id_from(data.get("parentCommentId"), "parentCommentId")
    _require_comment_write(request, content_id, parent_id, inline=True)
    store = _store(request)
    comment = store.add_inline_comment(_storage_from(data.get("body"), required=True), content_id=content_id,
                                       parent_comment_id=parent_id, selection=_text_selection(data))
    body = shapes.inline_comment_json(_site(request), comment, store.content(comment.content_id), "storage",
                                      single=True)
    return JSONResponse(body, status_code=201, headers={"Location": f"{V2}/inline-comments/{comment.id}"})


# -- v1 odds and ends, gateways, admin ----------------------------------------------------


async def v1_update_attachment(request: Request) -> Response:
    """PUT /content/{id}/child/attachment/{attachmentId}: a new name, media type or comment,
    or another page, for the same file (a new attachment version, current + 1)."""
    data = await _body(request)
    store = _store(request)
    owner = store.content(_path_id(request))
    attachment_id = _path_id(request, "attachment_id")
    version = data.get("version")
    if data.get("type") != "attachment" or str(data.get("id", "")).removeprefix("att") != str(attachment_id) \
            or not isinstance(version, dict):
        raise ApiError(400, "The body needs the attachment's id, type 'attachment' and a version")
    _require_write(request, owner.space_id)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    extensions = data.get("extensions") if isinstance(data.get("extensions"), dict) else {}
    container = data.get("container") if isinstance(data.get("container"), dict) else {}
    attachment = store.update_attachment_properties(
        attachment_id, content_id=owner.id, version=version.get("number"),
        title=data.get("title") if isinstance(data.get("title"), str) else None,
        media_type=metadata.get("mediaType") or extensions.get("mediaType"),
        comment=metadata.get("comment", extensions.get("comment")),
        move_to=_id_from(container.get("id"), "container.id"),
    )
    return JSONResponse(shapes.attachment_v1_json(_site(request), attachment, store.content(attachment.content_id)))


async def v1_search_users(request: Request) -> Response:
    """GET /search/user: user CQL over the sandbox's users, start/limit paging (at most 100
    rows a page, the limit echoed as asked, as Cloud does)."""
    cql = request.query_params.get("cql")
    if not cql:
        raise ApiError(400, "The parameter cql is required")
    try:
        selects = user_filter(cql)
    except CqlError as error:
        raise ApiError(400, f"Could not parse cql : {cql} ({error})") from None
    start = _int(request.query_params.get("start"), "start", default=0) or 0
    limit = _int(request.query_params.get("limit"), "limit", default=25)
    assert limit is not None
    if start < 0 or limit < 0:
        raise ApiError(400, "start and limit must not be negative")
    site = _site(request)
    users = [shapes.user_v1_json(site)]  # the sandbox has one user: the one it signs in
    rows = [shapes.user_search_result(site, user) for user in users if selects(user)][start : start + min(limit, 100)]
    return JSONResponse({"results": rows, "start": start, "limit": limit, "size": len(rows), "totalSize": len(rows),
                         "cqlQuery": cql, "searchDuration": 1, "_links": {"base": site.base, "context": "/wiki"}})


async def v1_content_state(request: Request) -> Response:
    _choice(request, "status", ("current", "draft", "archived"), "current")
    return JSONResponse(shapes.content_state_json(_store(request).content_state(_path_id(request))))


async def v1_set_content_state(request: Request) -> Response:
    """Set a page's state by id, or by name and colour (an unknown pair makes a custom state)."""
    status = _choice(request, "status", ("current", "draft"))
    if status is None:
        raise ApiError(400, "The parameter status is required: current or draft")
    data = await _body(request)
    store = _store(request)
    _require_write(request, store.content(_path_id(request)).space_id)
    state_id = _id_from(data.get("id"), "id")
    name, color = data.get("name"), data.get("color")
    if not (name is None or isinstance(name, str)) or not (color is None or isinstance(color, str)):
        raise ApiError(400, "name and color must be strings")
    found = store.set_content_state(_path_id(request), status=status, state_id=state_id, name=name, color=color)
    return JSONResponse(shapes.content_state_json(found))


async def v1_remove_content_state(request: Request) -> Response:
    status = _choice(request, "status", ("current", "draft"), "current") or "current"
    store = _store(request)
    _require_write(request, store.content(_path_id(request)).space_id)
    return JSONResponse(shapes.content_state_json(store.remove_content_state(_path_id(request), status=status)))




async def v1_current_user(request: Request) -> Response:
    return JSONResponse(shapes.user_v1_json(_site(request)))


async def v1_move_page(request: Request) -> Response:
    """PUT /content/{pageId}/move/{position}/{targetId}: v1's only way to order siblings."""
    store = _store(request)
    page_id = _path_id(request)
    _require_write(request, store.content(page_id, PAGE).space_id)
    moved = store.move_page(page_id, request.path_params["position"], _path_id(request, "target_id"))
    return JSONResponse({"pageId": str(moved.id)})


async def v1_gone(request: Request) -> Response:
    # Confluence removed v1 page CRUD for OAuth and the gateways; the sandbox removes it
    # everywhere so that nothing built against it can come to depend on it.
    return JSONResponse(shapes.v1_error(410, "com.atlassian.confluence.api.service.exceptions.pagesmodes."
                                              "GoneException: This deprecated endpoint has been removed."),
                        status_code=410)


async def accessible_resources(request: Request) -> Response:
    store = _store(request)
    site = f"{request.url.scheme}://{request.url.netloc}"
    return JSONResponse([{
        "id": store.cloud_id,
        "name": "sandbox",
        "url": site,
        "scopes": ["read:confluence-content.all", "write:confluence-content", "read:page:confluence",
                   "write:page:confluence", "read:space:confluence", "read:attachment:confluence",
                   "write:attachment:confluence", "write:confluence-file", "read:label:confluence",
                   "write:label:confluence", "read:hierarchical-content:confluence"],
        "avatarUrl": f"{site}/favicon.ico",
    }])


async def tenant_info(request: Request) -> Response:
    return JSONResponse({"cloudId": _store(request).cloud_id})


async def admin_faults(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if request.method == "PUT":
        try:
            sandbox.faults.update(await _body(request))
        except (MdsyncError, ValueError, TypeError) as error:
            raise ApiError(400, str(error)) from None
    return JSONResponse(sandbox.faults.as_dict())


async def space_operations(request: Request) -> Response:
    return JSONResponse({"operations": _space_operations(request, _path_id(request))})


async def content_operations(request: Request, kind: str) -> Response:
    content = _store(request).content(_path_id(request), kind)
    writable = any(item["operation"] == "create" for item in _space_operations(request, content.space_id))
    target = "page" if kind == PAGE else "blogpost"
    names = ("read", "update", "delete") if writable else ("read",)
    return JSONResponse({"operations": [{"operation": name, "targetType": target} for name in names]})


async def admin_permissions(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if request.method == "PUT":
        data = await _body(request)
        spaces = data.get("read_only_spaces", [])
        if not isinstance(spaces, list) or not all(isinstance(key, str) for key in spaces):
            raise ApiError(400, "read_only_spaces must be a list of space keys")
        sandbox.read_only_spaces = {key.upper() for key in spaces}
    return JSONResponse({"read_only_spaces": sorted(sandbox.read_only_spaces)})


async def admin_editor_save(request: Request, kind: str) -> Response:
    """A person opens the page in the Cloud editor and publishes it: a new version, re-saved.

    The body may carry ``{"storage": "..."}``, the page as the person edited it, and
    ``"title"``, the title they gave it; without them the current body and title are re-saved
    unchanged apart from what the editor rewrites.
    """
    data = await _body(request)
    store = _store(request)
    content = store.content(_path_id(request), kind)
    if content.status != "current":
        raise ApiError(400, f"Only a published page can be edited; content [{content.id}] is {content.status}")
    edited = data.get("storage", content.body)
    title = data.get("title", content.title)
    if not isinstance(edited, str) or not isinstance(title, str):
        raise ApiError(400, "storage and title must be strings")
    _require_write(request, content.space_id)
    try:
        body = editor_resave(edited, space_key=store.space(content.space_id).key,
                             image_sizes=_attachment_sizes(store, content.id))
    except StorageParseError as error:
        raise storage_refusal(error) from None
    saved = store.update_content(kind, content.id, title=title, body=body, status="current",
                                 version=content.version + 1, message="")
    return JSONResponse(shapes.content_json(_site(request), saved, body_format="storage", view=None, single=True))


def _attachment_sizes(store: Store, content_id: int) -> ImageSizes:
    """Measure the page's attachments by file name, as the editor does for the images it shows."""

    def size(filename: str) -> tuple[int, int] | None:
        found = store.attachments(content_id, filename=filename)
        return image_size(store.attachment_data(found[0].id)) if found else None

    return size


async def admin_stats(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if request.method == "DELETE":
        sandbox.stats.reset()
    return JSONResponse(sandbox.stats.as_dict())


async def admin_info(request: Request) -> Response:
    store = _store(request)
    return JSONResponse({"cloudId": store.cloud_id, "connectionId": store.connection_id})


# -- wiring -------------------------------------------------------------------------------


def _guard(handler: Callable[..., Awaitable[Response]], **bound: Any) -> Handler:
    """Turn ApiError into Confluence's error envelope for the API the path belongs to."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, **bound)
        except ApiError as error:
            return error_response(request.url.path, error.status, error.code, error.title)

    endpoint.__name__ = handler.__name__
    return endpoint


def error_response(path: str, status: int, code: str, title: str) -> JSONResponse:
    in_v1 = path.startswith(V1) or "/rest/api/" in path
    body = shapes.v1_error(status, title) if in_v1 else shapes.v2_error(status, code, title)
    return JSONResponse(body, status_code=status)


def _content_routes(collection: str, kind: str) -> list[BaseRoute]:
    base = f"{V2}/{collection}"
    return [
        Route(base, _guard(_list_contents_handler, kind=kind), methods=["GET"]),
        Route(base, _guard(create_content, kind=kind), methods=["POST"]),
        Route(base + "/{id}", _guard(get_content, kind=kind), methods=["GET"]),
        Route(base + "/{id}", _guard(update_content, kind=kind), methods=["PUT"]),
        Route(base + "/{id}", _guard(delete_content, kind=kind), methods=["DELETE"]),
        Route(base + "/{id}/versions", _guard(content_versions, kind=kind), methods=["GET"]),
        Route(base + "/{id}/versions/{version}", _guard(content_version_detail, kind=kind), methods=["GET"]),
        Route(base + "/{id}/properties", _guard(list_properties, kind=kind), methods=["GET"]),
        Route(base + "/{id}/properties", _guard(create_property, kind=kind), methods=["POST"]),
        Route(base + "/{id}/properties/{property_id}", _guard(get_property, kind=kind), methods=["GET"]),
        Route(base + "/{id}/properties/{property_id}", _guard(update_property, kind=kind), methods=["PUT"]),
        Route(base + "/{id}/properties/{property_id}", _guard(delete_property, kind=kind), methods=["DELETE"]),
        Route(base + "/{id}/labels", _guard(list_labels, kind=kind), methods=["GET"]),
        Route(base + "/{id}/operations", _guard(content_operations, kind=kind), methods=["GET"]),
        Route(base + "/{id}/attachments", _guard(content_attachments, kind=kind), methods=["GET"]),
        Route(base + "/{id}/footer-comments", _guard(content_comments, kind=kind), methods=["GET"]),
        Route(base + "/{id}/inline-comments", _guard(content_inline_comments, kind=kind), methods=["GET"]),
    ]


def _tree_routes(collection: str, kind: str) -> list[BaseRoute]:
    """The hierarchy routes pages and folders share."""
    base = f"{V2}/{collection}/{{id}}"
    return [
        Route(base + "/direct-children", _guard(direct_children, kind=kind), methods=["GET"]),
        Route(base + "/ancestors", _guard(ancestors, kind=kind), methods=["GET"]),
        Route(base + "/descendants", _guard(descendants, kind=kind), methods=["GET"]),
    ]


async def _list_contents_handler(request: Request, kind: str) -> Response:
    return _list_contents(request, kind)


def routes() -> list[BaseRoute]:
    from mdsync.sandbox import web

    api: list[BaseRoute] = [
        Route(f"{V2}/spaces", _guard(list_spaces), methods=["GET"]),
        Route(f"{V2}/spaces", _guard(create_space), methods=["POST"]),
        Route(f"{V2}/spaces/{{id}}", _guard(get_space), methods=["GET"]),
        Route(f"{V2}/spaces/{{id}}/operations", _guard(space_operations), methods=["GET"]),
        Route(f"{V2}/spaces/{{id}}/pages", _guard(space_contents, kind=PAGE), methods=["GET"]),
        Route(f"{V2}/spaces/{{id}}/blogposts", _guard(space_contents, kind=BLOGPOST), methods=["GET"]),
        Route(f"{V2}/pages/{{id}}/title", _guard(rename_page), methods=["PUT"]),
        Route(f"{V2}/pages/{{id}}/children", _guard(page_children), methods=["GET"]),
        *_tree_routes("pages", PAGE),
        *_tree_routes("folders", FOLDER),
        Route(f"{V2}/folders", _guard(create_folder), methods=["POST"]),
        Route(f"{V2}/folders/{{id}}", _guard(get_folder), methods=["GET"]),
        Route(f"{V2}/folders/{{id}}", _guard(delete_folder), methods=["DELETE"]),
        *_content_routes("pages", PAGE),
        *_content_routes("blogposts", BLOGPOST),
        Route(f"{V2}/attachments", _guard(all_attachments), methods=["GET"]),
        Route(f"{V2}/attachments/{{id}}", _guard(get_attachment), methods=["GET"]),
        Route(f"{V2}/attachments/{{id}}", _guard(delete_attachment), methods=["DELETE"]),
        Route(f"{V2}/attachments/{{id}}/properties", _guard(list_properties, kind=ATTACHMENT), methods=["GET"]),
        Route(f"{V2}/attachments/{{id}}/properties", _guard(create_property, kind=ATTACHMENT), methods=["POST"]),
        *[Route(f"{V2}/attachments/{{id}}/properties/{{property_id}}", _guard(handler, kind=ATTACHMENT),
                methods=[method])
          for method, handler in (("GET", get_property), ("PUT", update_property), ("DELETE", delete_property))],
        Route(f"{V2}/inline-comments", _guard(create_inline_comment), methods=["POST"]),
        Route(f"{V2}/footer-comments", _guard(create_comment), methods=["POST"]),
        Route(f"{V2}/footer-comments/{{comment_id}}", _guard(get_comment), methods=["GET"]),
        Route(f"{V2}/footer-comments/{{comment_id}}", _guard(update_comment), methods=["PUT"]),
        Route(f"{V2}/footer-comments/{{comment_id}}", _guard(delete_comment), methods=["DELETE"]),
        Route(f"{V1}/content/{{id}}/child/attachment", _guard(v1_list_attachments), methods=["GET"]),
        Route(f"{V1}/content/{{id}}/child/attachment", _guard(v1_upload), methods=["POST", "PUT"]),
        Route(f"{V1}/content/{{id}}/child/attachment/{{attachment_id}}", _guard(v1_update_attachment),
              methods=["PUT"]),
        Route(f"{V1}/content/{{id}}/child/attachment/{{attachment_id}}/data", _guard(v1_upload_version),
              methods=["POST"]),
        Route(f"{V1}/content/{{id}}/child/attachment/{{attachment_id}}/download", _guard(v1_download),
              methods=["GET"]),
        Route(f"{V1}/content/{{id}}/label", _guard(v1_list_labels), methods=["GET"]),
        Route(f"{V1}/content/{{id}}/label", _guard(v1_add_labels), methods=["POST"]),
        Route(f"{V1}/content/{{id}}/label", _guard(v1_remove_label_query), methods=["DELETE"]),
        Route(f"{V1}/content/{{id}}/label/{{label}}", _guard(v1_remove_label_path), methods=["DELETE"]),
        Route(f"{V1}/content/{{id}}/move/{{position}}/{{target_id}}", _guard(v1_move_page), methods=["PUT"]),
        Route(f"{V1}/content/{{id}}/state", _guard(v1_content_state), methods=["GET"]),
        Route(f"{V1}/content/{{id}}/state", _guard(v1_set_content_state), methods=["PUT"]),
        Route(f"{V1}/content/{{id}}/state", _guard(v1_remove_content_state), methods=["DELETE"]),
        Route(f"{V1}/search/user", _guard(v1_search_users), methods=["GET"]),
        Route(f"{V1}/user/current", _guard(v1_current_user), methods=["GET"]),
        Route(f"{V1}/content", v1_gone, methods=["GET", "POST"]),
        Route(f"{V1}/content/{{id}}", v1_gone, methods=["GET", "PUT", "DELETE"]),
        Route("/wiki/download/attachments/{content_id}/{filename:path}", _guard(download), methods=["GET"]),
        Route("/_gateway/accessible-resources", accessible_resources, methods=["GET"]),
        Route("/_edge/tenant_info", tenant_info, methods=["GET"]),
        Route("/_sandbox/faults", _guard(admin_faults), methods=["GET", "PUT"]),
        Route("/_sandbox/permissions", _guard(admin_permissions), methods=["GET", "PUT"]),
        Route("/_sandbox/pages/{id}/editor-save", _guard(admin_editor_save, kind=PAGE), methods=["POST"]),
        Route("/_sandbox/blogposts/{id}/editor-save", _guard(admin_editor_save, kind=BLOGPOST), methods=["POST"]),
        Route("/_sandbox/stats", admin_stats, methods=["GET", "DELETE"]),
        Route("/_sandbox/info", admin_info, methods=["GET"]),
    ]
    return api + web.routes()


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    path = request.url.path
    if path.startswith(("/wiki/api/", "/wiki/rest/", "/ex/", "/confluence/")):
        title = "Not Found" if error.status_code == 404 else (error.detail or "Error")
        if error.status_code == 405:
            title = f"Method {request.method} is not allowed on {path}"
        return error_response(path, error.status_code, shapes_code(error.status_code), title)
    return Response(f"{error.status_code} {error.detail}", status_code=error.status_code, media_type="text/plain")


def shapes_code(status: int) -> str:
    return {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "ERROR")


def create_sandbox(store: Store | None = None, *, email: str = DEFAULT_EMAIL, token: str = DEFAULT_TOKEN,
                   faults: Faults | None = None, spaces: Sequence[str] = ("DOCS",),
                   maton_per_second: float = 10.0) -> Sandbox:
    """Build a sandbox (store + app). ``spaces`` are created when missing."""
    store = store or Store()
    for key in spaces:
        store.ensure_space(key)
    credentials = Credentials(email=email, token=token)
    faults = faults or Faults()
    stats = Stats()
    inner = Starlette(routes=routes(), exception_handlers={HTTPException: _http_error})
    app = SandboxMiddleware(inner, store=store, credentials=credentials, faults=faults, stats=stats,
                            maton_per_second=maton_per_second)
    sandbox = Sandbox(store=store, credentials=credentials, faults=faults, stats=stats, app=app)
    inner.state.sandbox = sandbox
    return sandbox
