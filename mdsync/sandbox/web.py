"""The sandbox's browser preview: spaces, page trees, and pages rendered as Confluence shows them.

Page URLs match the ``_links.webui`` the API gives (``/wiki/spaces/KEY/pages/ID/Title``),
so a link printed by mdsync opens the right page here. The preview is read-only and needs
no credentials; it is meant for a sandbox bound to the loopback interface.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus

from lxml import html as lxml_html
from lxml.html import builder as E
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mdsync.errors import MdsyncError
from mdsync.sandbox.store import BLOGPOST, FOLDER, PAGE, TREE_KINDS, ApiError, Content, Space, Store

_PAGE_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #172b4d; }
header { background: #0052cc; color: white; padding: 10px 24px; }
header a { color: white; text-decoration: none; font-weight: 600; }
.layout { display: grid; grid-template-columns: 280px 1fr; min-height: 100vh; }
nav.tree { background: #f4f5f7; padding: 16px; font-size: 14px; border-right: 1px solid #dfe1e6; }
nav.tree ul { list-style: none; padding-left: 14px; margin: 2px 0; }
nav.tree a.current { font-weight: 700; }
main { padding: 24px 40px; max-width: 960px; }
.meta { color: #6b778c; font-size: 13px; margin-bottom: 16px; }
.breadcrumbs { font-size: 13px; color: #6b778c; }
.label { background: #dfe1e6; border-radius: 3px; padding: 1px 6px; margin-right: 4px; font-size: 12px; }
table.attachments td { padding: 2px 12px 2px 0; }
"""


def _store(request: Request) -> Store:
    return request.app.state.sandbox.store


def page_url(space: Space, content: Content) -> str:
    if content.type == BLOGPOST:
        day = content.created_at[:10].replace("-", "/")
        return f"/wiki/spaces/{space.key}/blog/{day}/{content.id}/{quote_plus(content.title)}"
    return f"/wiki/spaces/{space.key}/pages/{content.id}/{quote_plus(content.title)}"


def render_content(store: Store, content: Content) -> str:
    """A page's storage as HTML, with page and attachment links pointing into the preview."""
    from mdsync.preview.view import render_storage

    space = store.space(content.space_id)

    def resolve_page(title: str, key: str | None) -> str | None:
        target_space = store.space_by_key(key) if key else space
        if target_space is None:
            return None
        found = store.contents(PAGE, space_ids=[target_space.id], title=title, statuses=["current"])
        return page_url(target_space, found[0]) if found else None

    def resolve_attachment(filename: str, owner_title: str | None) -> str | None:
        owner = content
        if owner_title:
            found = store.contents(PAGE, space_ids=[space.id], title=owner_title, statuses=["current"])
            if not found:
                return None
            owner = found[0]
        matches = store.attachments(owner.id, filename=filename)
        return f"/_preview/attachments/att{matches[0].id}" if matches else None

    return render_storage(content.body, resolve_page=resolve_page, resolve_attachment=resolve_attachment)


def _document(title: str, *body: Any) -> HTMLResponse:
    from mdsync.preview.view import VIEW_CSS

    page = E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.TITLE(title), E.STYLE(VIEW_CSS + _PAGE_CSS)),
        E.BODY(E.E.header(E.A("mdsync sandbox", href="/")), *body),
    )
    return HTMLResponse("<!DOCTYPE html>\n" + lxml_html.tostring(page, encoding="unicode"))


def _tree(store: Store, space: Space, current: int | None) -> Any:
    """The space's tree of pages and folders as nested lists, then its blog posts."""
    pages = store.contents(TREE_KINDS, space_ids=[space.id], statuses=["current"], sort="child-position")
    known = {page.id for page in pages}
    by_parent: dict[int | None, list[Content]] = {}
    for page in pages:
        by_parent.setdefault(page.parent_id if page.parent_id in known else None, []).append(page)

    def branch(parent: int | None) -> Any:
        items = []
        for child in by_parent.get(parent, []):
            link = E.SPAN(f"{child.title} (folder)") if child.type == FOLDER else E.A(child.title,
                                                                                     href=page_url(space, child))
            if child.id == current:
                link.set("class", "current")
            item = E.LI(link)
            if child.id in by_parent:
                item.append(branch(child.id))
            items.append(item)
        return E.UL(*items)

    tree = branch(None)
    blogs = store.contents(BLOGPOST, space_ids=[space.id], statuses=["current"], sort="-created-date")
    if blogs:
        return E.DIV(tree, E.P(E.STRONG("Blog")), E.UL(*[E.LI(E.A(b.title, href=page_url(space, b))) for b in blogs]))
    return tree


async def index(request: Request) -> Response:
    store = _store(request)
    sections = []
    for space in store.spaces():
        sections.append(E.SECTION(E.H2(E.A(f"{space.name} ({space.key})", href=f"/wiki/spaces/{space.key}")),
                                  _tree(store, space, None)))
    if not sections:
        sections.append(E.P("No spaces yet."))
    return _document("mdsync sandbox", E.E.main(E.H1("Spaces"), *sections))


async def space_page(request: Request) -> Response:
    store = _store(request)
    space = store.space_by_key(request.path_params["key"])
    if space is None:
        return HTMLResponse("No such space", status_code=404)
    if space.homepage_id:
        home = store.content(space.homepage_id)
        return RedirectResponse(page_url(space, home), status_code=302)
    return _document(space.name, E.E.main(E.H1(space.name), _tree(store, space, None)))


def _breadcrumbs(store: Store, space: Space, content: Content) -> Any:
    crumbs: list[Any] = [E.A(space.name, href=f"/wiki/spaces/{space.key}")]
    if content.type == PAGE:
        for ancestor_id, kind in store.ancestors(content.id):
            ancestor = store.content(ancestor_id)
            link = E.SPAN(ancestor.title) if kind == FOLDER else E.A(ancestor.title, href=page_url(space, ancestor))
            crumbs += [" / ", link]
    return E.DIV(*crumbs, **{"class": "breadcrumbs"})


async def content_page(request: Request) -> Response:
    store = _store(request)
    space = store.space_by_key(request.path_params["key"])
    try:
        content = store.content(int(request.path_params["id"]))
    except (ApiError, ValueError):
        return HTMLResponse("No such page", status_code=404)
    if space is None or content.space_id != space.id or content.type == FOLDER:
        return HTMLResponse("No such page", status_code=404)

    try:
        rendered = render_content(store, content)
        fragments = lxml_html.fragments_fromstring(rendered) if rendered.strip() else []
    except MdsyncError as error:
        fragments = [E.P(f"This page's storage could not be rendered: {error}")]
    body = E.DIV(**{"class": "page-body"})
    for fragment in fragments:
        if isinstance(fragment, str):
            body.append(E.P(fragment))
        else:
            body.append(fragment)

    labels = store.labels(content.id)
    attachments = store.attachments(content.id)
    extras: list[Any] = []
    if labels:
        extras.append(E.P(*[E.SPAN(label.name, **{"class": "label"}) for label in labels]))
    if attachments:
        rows = [E.TR(E.TD(E.A(a.title, href=f"/_preview/attachments/att{a.id}")), E.TD(a.media_type),
                     E.TD(f"{a.file_size} bytes"), E.TD(f"v{a.version}")) for a in attachments]
        extras += [E.H3("Attachments"), E.TABLE(*rows, **{"class": "attachments"})]
    status = "" if content.status == "current" else f" · {content.status}"
    main = E.E.main(
        _breadcrumbs(store, space, content),
        E.H1(content.title),
        E.DIV(f"Version {content.version} · updated {content.version_created_at}{status}", **{"class": "meta"}),
        body,
        *extras,
    )
    return _document(content.title, E.DIV(E.E.nav(_tree(store, space, content.id), **{"class": "tree"}), main,
                                           **{"class": "layout"}))


async def attachment_file(request: Request) -> Response:
    store = _store(request)
    raw = request.path_params["id"]
    try:
        attachment = store.attachment(int(raw[3:] if raw.startswith("att") else raw))
        data = store.attachment_data(attachment.id)
    except (ApiError, ValueError):
        return HTMLResponse("No such attachment", status_code=404)
    disposition = "inline" if attachment.media_type.startswith("image/") else "attachment"
    # Served as-is but never as HTML or SVG script: the preview must not run page content.
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.title)}",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=attachment.media_type, headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route("/", index, methods=["GET"]),
        Route("/wiki", index, methods=["GET"]),
        Route("/wiki/spaces/{key}", space_page, methods=["GET"]),
        Route("/wiki/spaces/{key}/pages/{id}", content_page, methods=["GET"]),
        Route("/wiki/spaces/{key}/pages/{id}/{slug:path}", content_page, methods=["GET"]),
        Route("/wiki/spaces/{key}/blog/{year}/{month}/{day}/{id}/{slug:path}", content_page, methods=["GET"]),
        Route("/_preview/attachments/{id}", attachment_file, methods=["GET"]),
    ]
