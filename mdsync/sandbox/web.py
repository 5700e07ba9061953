"""The sandbox's browser preview: spaces, page trees, and pages rendered as Confluence shows them.

Page URLs match the ``_links.webui`` the API gives (``/wiki/spaces/KEY/pages/ID/Title``),
so a link printed by mdsync opens the right page here. The preview is read-only and needs
no credentials; it is meant for a sandbox bound to the loopback interface.
"""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import resources
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from lxml import html as lxml_html
from lxml.html import builder as E
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mdsync.errors import MdsyncError
from mdsync.sandbox.store import (
    BLOGPOST,
    FOLDER,
    PAGE,
    TREE_KINDS,
    ApiError,
    Content,
    Space,
    Store,
)

# The page around the preview: top bar, the space's sidebar with its page tree, the page
# (package data, so it is edited as CSS).
_PAGE_CSS = (resources.files("mdsync.sandbox") / "web.css").read_text(encoding="utf-8")
# Confluence's address for "create this page", where it sends a link to a missing page.
MISSING_PAGE_PATH = "/wiki/pages/createpage.action"


def _store(request: Request) -> Store:
    return request.app.state.sandbox.store


def page_url(space: Space, content: Content) -> str:
    if content.type == BLOGPOST:
        day = content.created_at[:10].replace("-", "/")
        return f"/wiki/spaces/{space.key}/blog/{day}/{content.id}/{quote_plus(content.title)}"
    return f"/wiki/spaces/{space.key}/pages/{content.id}/{quote_plus(content.title)}"


def missing_page_url(space_key: str, title: str) -> str:
    return f"{MISSING_PAGE_PATH}?{urlencode({'spaceKey': space_key, 'title': title})}"


def render_content(store: Store, content: Content, *, preview: bool = False) -> str:
    """A page's storage as HTML, with page and attachment links pointing into the preview.

    In the ``preview`` a link to a missing page leads to a "page not found" page, as
    Confluence's leads to its "create page" screen, and code is highlighted; the API's view
    body, as Confluence's, has neither.
    """
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

    def missing_page(title: str, key: str | None) -> str:
        return missing_page_url(key or space.key, title)

    return render_storage(content.body, resolve_page=resolve_page, resolve_attachment=resolve_attachment,
                          missing_page=missing_page if preview else None, highlight=preview)


# ---------------------------------------------------------------------------- the page around


def _attrs(name: str, **more: str) -> dict[str, str]:
    return {"class": name, **more}


def _document(title: str, *body: Any, status_code: int = 200) -> HTMLResponse:
    from mdsync.preview.view import VIEW_CSS

    top = E.E.header(
        E.A(E.SPAN("m", **_attrs("logo-mark")), E.SPAN("mdsync sandbox"), href="/", **_attrs("logo")),
        E.E.nav(E.A("Spaces", href="/"), **_attrs("top-links")),
        **_attrs("topbar"),
    )
    page = E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.META(name="viewport", content="width=device-width, initial-scale=1"),
               E.TITLE(title), E.STYLE(VIEW_CSS + _PAGE_CSS)),
        E.BODY(top, *body),
    )
    return HTMLResponse("<!DOCTYPE html>\n" + lxml_html.tostring(page, encoding="unicode"), status_code=status_code)


def _when(iso: str, now: datetime) -> Any:
    """A moment as people read it ("2 hours ago", "Dec 1, 2026"); the ISO text in its attributes."""
    from mdsync.preview.dates import relative_time

    return E.E.time(relative_time(iso, now) or iso, datetime=iso, title=iso)


def _avatar(space: Space) -> Any:
    return E.SPAN(space.key[:1].upper(), **_attrs("space-avatar", **{"aria-hidden": "true"}))


def _space_pages(store: Store, space: Space) -> list[Content]:
    return store.contents(TREE_KINDS, space_ids=[space.id], statuses=["current"], sort="child-position")


def _tree(store: Store, space: Space, current: int | None, pages: list[Content] | None = None) -> Any:
    """The space's tree of pages and folders as nested lists, then its blog posts."""
    pages = _space_pages(store, space) if pages is None else pages
    known = {page.id for page in pages}
    by_parent: dict[int | None, list[Content]] = {}
    for page in pages:
        by_parent.setdefault(page.parent_id if page.parent_id in known else None, []).append(page)

    def branch(parent: int | None) -> Any:
        items = []
        for child in by_parent.get(parent, []):
            if child.type == FOLDER:
                link = E.SPAN(child.title, **_attrs("tree-folder"))
            else:
                link = E.A(child.title, href=page_url(space, child), **_attrs("tree-page"))
            if child.id == current:
                link.set("class", link.get("class") + " current")
                link.set("aria-current", "page")
            item = E.LI(link)
            if child.id in by_parent:
                item.set("class", "has-children")
                item.append(branch(child.id))
            items.append(item)
        return E.UL(*items, **_attrs("tree"))

    tree = branch(None)
    blogs = store.contents(BLOGPOST, space_ids=[space.id], statuses=["current"], sort="-created-date")
    if blogs:
        posts = [E.LI(E.A(b.title, href=page_url(space, b), **_attrs("tree-blog"))) for b in blogs]
        return E.DIV(tree, E.DIV("Blog", **_attrs("sidebar-heading")), E.UL(*posts, **_attrs("tree")))
    return tree


def _sidebar(store: Store, space: Space, current: int | None) -> Any:
    """The space's sidebar, as Confluence's: the space, then its content tree."""
    heading = E.A(_avatar(space), E.SPAN(space.name, **_attrs("space-name")), href=f"/wiki/spaces/{space.key}",
                  **_attrs("space-header"))
    return E.E.nav(heading, E.DIV("Content", **_attrs("sidebar-heading")), _tree(store, space, current),
                   **_attrs("sidebar", **{"aria-label": "Page tree"}))


def _shell(store: Store, space: Space, current: int | None, *main: Any) -> Any:
    return E.DIV(_sidebar(store, space, current), E.E.main(*main, **_attrs("content")), **_attrs("shell"))


# ---------------------------------------------------------------------------- routes


async def index(request: Request) -> Response:
    store = _store(request)
    now = datetime.now(timezone.utc)
    cards = []
    for space in store.spaces():
        pages = _space_pages(store, space)
        count = sum(1 for page in pages if page.type == PAGE)
        latest = max((page.version_created_at for page in pages), default=space.created_at)
        title = E.H2(E.A(space.name, href=f"/wiki/spaces/{space.key}"))
        facts = E.DIV(E.SPAN(space.key, **_attrs("space-key")), f" · {count} page{'' if count == 1 else 's'}"
                      " · updated ", _when(latest, now), **_attrs("meta"))
        cards.append(E.E.article(E.DIV(_avatar(space), E.DIV(title, facts), **_attrs("card-head")),
                                 _tree(store, space, None, pages), **_attrs("space-card")))
    if not cards:
        cards.append(E.P("No spaces yet."))
    main = E.E.main(E.H1("Spaces"), E.DIV(*cards, **_attrs("space-cards")), **_attrs("content directory"))
    return _document("Spaces · mdsync sandbox", main)


async def space_page(request: Request) -> Response:
    store = _store(request)
    space = store.space_by_key(request.path_params["key"])
    if space is None:
        return HTMLResponse("No such space", status_code=404)
    if space.homepage_id:
        home = store.content(space.homepage_id)
        return RedirectResponse(page_url(space, home), status_code=302)
    return _document(space.name, _shell(store, space, None, E.H1(space.name), _tree(store, space, None)))


async def not_found_page(request: Request) -> Response:
    """Where a link to a missing page leads: Confluence would offer to create the page."""
    store = _store(request)
    key = request.query_params.get("spaceKey", "")
    title = request.query_params.get("title", "")
    space = store.space_by_key(key) if key else None
    main = [
        E.H1("Page not found"),
        E.P("There is no page ", E.STRONG(title or "(untitled)"), f" in space {space.name if space else key}."),
        E.P("To create it, add a Markdown file for it to the docs folder and run ", E.CODE("mdsync push"), ".",
            **_attrs("hint")),
    ]
    body = _shell(store, space, None, *main) if space else E.E.main(*main, **_attrs("content"))
    return _document("Page not found", body, status_code=404)


def _breadcrumbs(store: Store, space: Space, content: Content) -> Any:
    crumbs: list[Any] = [E.A(space.name, href=f"/wiki/spaces/{space.key}")]
    if content.type == PAGE:
        for ancestor_id, kind in store.ancestors(content.id):
            ancestor = store.content(ancestor_id)
            link = E.SPAN(ancestor.title) if kind == FOLDER else E.A(ancestor.title, href=page_url(space, ancestor))
            crumbs += [E.SPAN("/", **_attrs("crumb-separator")), link]
    return E.E.nav(*crumbs, **_attrs("breadcrumbs", **{"aria-label": "Breadcrumbs"}))


def _page_body(store: Store, content: Content) -> Any:
    try:
        rendered = render_content(store, content, preview=True)
        fragments = lxml_html.fragments_fromstring(rendered) if rendered.strip() else []
    except MdsyncError as error:
        fragments = [E.P(f"This page's storage could not be rendered: {error}")]
    body = E.DIV(**_attrs("page-body"))
    for fragment in fragments:
        if isinstance(fragment, str):
            body.append(E.P(fragment))
        else:
            body.append(fragment)
    return body


def _page_extras(store: Store, content: Content) -> list[Any]:
    """The labels and the attachments table Confluence shows under a page."""
    labels = store.labels(content.id)
    attachments = store.attachments(content.id)
    extras: list[Any] = []
    if labels:
        extras.append(E.DIV(*[E.SPAN(label.name, **_attrs("label")) for label in labels], **_attrs("labels")))
    if attachments:
        head = E.TR(E.TH("File"), E.TH("Type"), E.TH("Size"), E.TH("Version"))
        rows = [E.TR(E.TD(E.A(a.title, href=f"/_preview/attachments/att{a.id}")), E.TD(a.media_type),
                     E.TD(f"{a.file_size:,} bytes"), E.TD(f"v{a.version}")) for a in attachments]
        extras += [E.H3("Attachments"), E.TABLE(head, *rows, **_attrs("attachments"))]
    return extras


async def content_page(request: Request) -> Response:
    store = _store(request)
    space = store.space_by_key(request.path_params["key"])
    try:
        content = store.content(int(request.path_params["id"]))
    except (ApiError, ValueError):
        return HTMLResponse("No such page", status_code=404)
    if space is None or content.space_id != space.id or content.type == FOLDER:
        return HTMLResponse("No such page", status_code=404)

    now = datetime.now(timezone.utc)
    status = [] if content.status == "current" else [f" · {content.status}"]
    byline = E.DIV(E.SPAN("S", **_attrs("author-avatar", **{"aria-hidden": "true"})),
                   f"By sandbox · Version {content.version} · Last updated ", _when(content.version_created_at, now),
                   *status, **_attrs("meta byline"))
    main = [_breadcrumbs(store, space, content), E.H1(content.title, **_attrs("page-title")), byline,
            _page_body(store, content), *_page_extras(store, content)]
    return _document(content.title, _shell(store, space, content.id, *main))


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
        Route(MISSING_PAGE_PATH, not_found_page, methods=["GET"]),
        Route("/wiki/spaces/{key}/pages/{id}", content_page, methods=["GET"]),
        Route("/wiki/spaces/{key}/pages/{id}/{slug:path}", content_page, methods=["GET"]),
        Route("/wiki/spaces/{key}/blog/{year}/{month}/{day}/{id}/{slug:path}", content_page, methods=["GET"]),
        Route("/_preview/attachments/{id}", attachment_file, methods=["GET"]),
    ]
