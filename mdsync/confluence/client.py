"""The Confluence Cloud client: REST API v2 for everything it can do, v1 only where it cannot.

v1 is used for attachment upload and new attachment versions, and for adding and removing
labels. Page reads and writes never use v1: under OAuth and the gateways v1 page endpoints
answer 410 Gone.

Every request passes the throttle (requests in flight, requests per second) and the retry
rules of ``retry.py``. A page create is never retried blindly: after a failure that may have
landed, the client looks for the page by title under its parent first, so a lost response
never makes a duplicate page.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from mdsync import __version__
from mdsync.config import ConfluenceConfig
from mdsync.confluence.auth import Connection, connect, insecure
from mdsync.confluence.errors import (
    API_TOKENS_PAGE,
    AuthenticationFailed,
    BadAnswer,
    ConfluenceError,
    NotFound,
    Unreachable,
    VersionConflict,
    bad_shape,
    detail_of,
    error_for,
    html_page,
)
from mdsync.confluence.models import (
    Attachment,
    Label,
    Page,
    Property,
    Space,
    attachment_from,
    page_from,
)
from mdsync.confluence.retry import RETRY_STATUSES, UNCERTAIN, RetryPolicy, Throttle
from mdsync.confluence.transport import async_client
from mdsync.storage.canonical import storage_digest
from mdsync.vocabulary import AuthMode

log = logging.getLogger("mdsync.confluence")
V2 = "/api/v2"
V1 = "/rest/api"
PAGE_SIZE = 250
XSRF = {"X-Atlassian-Token": "no-check"}
REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 5


class ConfluenceClient:
    """An async client for one Confluence site. Use it as ``async with``."""

    def __init__(self, config: ConfluenceConfig, *, concurrency: int = 8, cloud_id: str | None = None,
                 retry: RetryPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None, timeout: float = 60.0) -> None:
        self.config = config
        self.retry = retry or RetryPolicy()
        self.throttle = Throttle(concurrency, config.rate_limit)
        self._cloud_id = cloud_id
        tls = httpx.create_ssl_context() if transport is None else True  # one for both clients
        self._http = async_client(transport, tls, timeout=timeout, event_hooks=dict(event_hooks or {}),
                                  headers={"User-Agent": f"mdsync/{__version__}", "Accept": "application/json"},
                                  follow_redirects=False)
        # For other origins (a media store): a client of its own, so no header, cookie or
        # credential of the site's can ride along.
        self._elsewhere = async_client(transport, tls, timeout=timeout, event_hooks=dict(event_hooks or {}),
                                       headers={"User-Agent": f"mdsync/{__version__}"}, follow_redirects=False)
        self.connection: Connection | None = None
        self.requests = 0  # sent, counting retries: for tests and benchmarks
        self.answered = False  # whether the site has answered anything yet (see request)

    async def __aenter__(self) -> ConfluenceClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> Connection:
        if self.connection is None:
            self.connection = await connect(self.config, self._http, cloud_id=self._cloud_id)
        return self.connection

    async def close(self) -> None:
        await self._http.aclose()
        await self._elsewhere.aclose()

    @property
    def cloud_id(self) -> str | None:
        """The site's cloud id once known (the sync keeps it in its state)."""
        return self.connection.cloud_id if self.connection else self._cloud_id

    # -- the one way requests go out ------------------------------------------------------------

    async def request(self, method: str, path: str, *, what: str, params: Any = None, json_body: Any = None,
                      files: Any = None, data: Any = None, headers: dict[str, str] | None = None,
                      idempotent: bool = True, absolute: bool = False, expect_json: bool = True,
                      elsewhere: bool = False) -> httpx.Response:
        """Send a request with retries; return the response or raise a ConfluenceError.

        ``idempotent=False`` requests are not resent after a failure that may have reached
        the server: they raise ``MaybeSent`` and the caller checks before trying again. An
        HTML page where JSON is expected (a login or proxy page) raises ``BadAnswer``.

        Credentials go only to the connection's own origin. A URL elsewhere (from an answer:
        ``absolute``) raises ``BadAnswer``, unless ``elsewhere`` allows it: then it is sent
        with nothing of ours, and only over https (or plain http to a loopback host).
        """
        connection = await self.open()
        url = httpx.URL(path if absolute else f"{connection.api_base}{path}")
        ours = connection.owns(url)
        if not ours:
            _check_elsewhere(url, what=what, allowed=elsewhere, connection=connection)
        http = self._http if ours else self._elsewhere
        sent = {**connection.headers, **(headers or {})} if ours else {}
        waited = 0.0
        last: httpx.Response | None = None
        for attempt in range(self.retry.attempts):
            try:
                async with self.throttle:
                    self.requests += 1
                    response = await http.request(method, url, params=params, json=json_body, files=files,
                                                  data=data, headers=sent)
            except UNCERTAIN as error:
                if not idempotent:
                    raise MaybeSent(f"the connection broke while waiting for Confluence to {what}") from error
                delay = self.retry.backoff(attempt)
                log.info("%s: %s; retrying in %.1fs", what, type(error).__name__, delay)
            except httpx.TransportError as error:
                # The request never reached the server (refused, DNS, connect timeout): safe to resend.
                # A site that has not answered once this run and refuses again is not a blip:
                # say so after one retry instead of backing off for a quarter of a minute.
                if attempt >= 1 and not self.answered and isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
                    raise Unreachable(f"Could not connect to {url.scheme}://{url.netloc.decode('ascii')} "
                                      f"({_no_connection(error)}) to {what}: check confluence.url in mdsync.yaml "
                                      "and the network, and run again.") from None
                delay = self.retry.backoff(attempt)
                log.info("%s: %s; retrying in %.1fs", what, type(error).__name__, delay)
            else:
                self.answered = True
                if response.status_code not in RETRY_STATUSES:
                    if expect_json and response.status_code < 300 and \
                            "html" in response.headers.get("content-type", "").lower():
                        raise html_page(response, what=what)  # someone else answering in Confluence's place
                    return response
                last = response
                if response.status_code != 429 and not idempotent:
                    # A 5xx may come after the work was done; let the caller check.
                    raise MaybeSent(f"Confluence answered {response.status_code} to {what}")
                delay = self.retry.delay_for(response, attempt)
                log.info("%s: %s; retrying in %.1fs", what, response.status_code, delay)
            if attempt + 1 >= self.retry.attempts or waited + delay > self.retry.max_total_wait:
                break
            waited += delay
            await asyncio.sleep(delay)
        if last is not None:
            raise error_for(last, what=what, gateway=connection.auth)
        raise Unreachable(f"Could not reach Confluence to {what} after {self.retry.attempts} attempts: check the "
                          "network (or the sandbox) and run again.")

    async def expect(self, method: str, path: str, *, what: str, ok: tuple[int, ...] = (200,),
                     **kwargs: Any) -> httpx.Response:
        response = await self.request(method, path, what=what, **kwargs)
        if response.status_code not in ok:
            raise error_for(response, what=what, gateway=self.connection.auth if self.connection else None)
        return response

    async def paged(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every result of a v2 listing, following ``_links.next`` (250 per request)."""
        connection = await self.open()
        query = {"limit": PAGE_SIZE, **(params or {})}
        response = await self.expect("GET", path, what=what, params=query)
        while True:
            try:
                body = response.json()
            except ValueError:
                raise bad_shape(what, "not JSON") from None
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
                raise bad_shape(what, "no list of results")
            for item in results:
                yield item
            following = (body.get("_links") or {}).get("next")
            if not following:
                return
            # Next links are site-relative and start with /wiki, also through a gateway. One
            # on another origin is refused (request()): it would get the credentials.
            response = await self.expect("GET", resolve(connection.root, str(following)), what=what, absolute=True)

    # -- spaces ------------------------------------------------------------------------------------

    async def space(self, key: str) -> Space:
        what = f"look up space {key}"
        response = await self.request("GET", f"{V2}/spaces", what=what, params={"keys": key})
        if response.status_code == 404 and detail_of(response) in ("", "Not Found"):
            # A signed-in user's space search answers 200, empty or not: Cloud's bare 404 here
            # means it did not accept the credentials (an expired token, most often).
            raise self._credentials_refused()
        if response.status_code != 200:
            raise error_for(response, what=what, gateway=self.connection.auth if self.connection else None)
        try:
            results = response.json().get("results")
        except (ValueError, AttributeError):
            results = None
        if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
            raise bad_shape(what, "no list of spaces")
        for item in results:
            if str(item.get("key", "")).lower() == key.lower():
                return Space(id=str(item["id"]), key=str(item["key"]), name=str(item.get("name") or key),
                             homepage_id=str(item["homepageId"]) if item.get("homepageId") else None)
        raise NotFound(f"There is no Confluence space with key '{key}' that these credentials can see: check "
                       "'space' in mdsync.yaml (the key, not the space's name).", 404)

    def _credentials_refused(self) -> AuthenticationFailed:
        site, variable = self.config.url, self.config.token_env_var
        if self.config.auth == AuthMode.TOKEN:
            user = f" for {self.config.email}" if self.config.email else ""
            return AuthenticationFailed(
                f"Confluence did not accept the credentials{user} at {site} (an API token may have expired): create "
                f"a new token at {API_TOKENS_PAGE} and set {variable}.", 404)
        return AuthenticationFailed(f"Confluence did not accept the credentials at {site} (the token may have "
                                    f"expired or been revoked): create a new one and set {variable}.", 404)

    async def space_operations(self, space_id: str) -> set[tuple[str, str]]:
        """What the signed-in user may do in the space: {(operation, target type)}, e.g. ("create", "page")."""
        response = await self.expect("GET", f"{V2}/spaces/{space_id}/operations", what="read the space's permissions")
        return {(str(item.get("operation")), str(item.get("targetType")))
                for item in response.json().get("operations") or []}

    # -- pages -------------------------------------------------------------------------------------

    async def pages_in_space(self, space_id: str, *, bodies: bool = False,
                             statuses: tuple[str, ...] = ("current",)) -> list[Page]:
        """Every page of a space with ids, titles, parents and versions; bodies only if asked."""
        params: dict[str, Any] = {"status": list(statuses)}
        if bodies:
            params["body-format"] = "storage"
        what = "list the space's pages"
        pages = []
        async for item in self.paged(f"{V2}/spaces/{space_id}/pages", what=what, params=params):
            # A row without these would read as a page moved or deleted, and cost a file.
            missing = [name for name in ("id", "status", "title", "parentId", "version") if name not in item]
            if missing or not isinstance(item["version"], dict) or "number" not in item["version"]:
                raise bad_shape(what, f"a page comes without {', '.join(missing) or 'version.number'}")
            pages.append(page_from(item))
        return pages

    async def page_tree(self, space_id: str, root_id: str, *, bodies: bool = False) -> list[Page]:
        """The pages under ``root_id`` (the root included), from one listing of the space."""
        pages = await self.pages_in_space(space_id, bodies=bodies)
        children: dict[str | None, list[Page]] = {}
        by_id = {page.id: page for page in pages}
        for page in pages:
            children.setdefault(page.parent_id, []).append(page)
        tree: list[Page] = []
        pending = [by_id[root_id]] if root_id in by_id else []
        while pending:
            page = pending.pop()
            tree.append(page)
            pending.extend(children.get(page.id, []))
        return tree

    async def get_page(self, page_id: str, *, body: bool = True, version: int | None = None,
                       kind: str = "page") -> Page:
        params: dict[str, Any] = {}
        if body:
            params["body-format"] = "storage"
        if version is not None:
            params["version"] = version
        response = await self.expect("GET", f"{V2}/{_collection(kind)}/{page_id}", what=f"read {kind} {page_id}",
                                     params=params)
        return page_from(response.json(), kind)

    async def find_page(self, space_id: str, title: str, *, kind: str = "page") -> Page | None:
        """The current page (or blog post) with this title in the space, if any (titles ignore case)."""
        response = await self.expect("GET", f"{V2}/{_collection(kind)}", what=f"look for the page '{title}'",
                                     params={"space-id": space_id, "title": title, "status": "current"})
        for item in response.json().get("results", []):
            if str(item.get("title", "")).lower() == title.lower():
                return page_from(item, kind)
        return None

    async def create_page(self, space_id: str, title: str, body: str, parent_id: str | None, *,
                          kind: str = "page") -> Page:
        """Create a page, never twice: a failure that may have landed is checked before a retry."""
        payload: dict[str, Any] = {"spaceId": space_id, "status": "current", "title": title,
                                   "body": {"representation": "storage", "value": body}}
        if parent_id and kind == "page":
            payload["parentId"] = parent_id
        what = f"create the page '{title}'"
        for attempt in range(self.retry.attempts):
            try:
                response = await self.expect("POST", f"{V2}/{_collection(kind)}", what=what, json_body=payload,
                                             idempotent=False)
                return page_from(response.json(), kind)
            except MaybeSent:
                await asyncio.sleep(self.retry.backoff(attempt))
                landed = await self.find_page(space_id, title, kind=kind)
                if landed is not None and (kind != "page" or not parent_id or landed.parent_id == parent_id):
                    full = await self.get_page(landed.id, kind=kind)
                    # Ours only if it holds exactly what we sent; someone else's page is not adopted
                    # (the retry then meets Confluence's "title already exists").
                    if full.body is not None and storage_digest(full.body) == storage_digest(body):
                        log.info("%s: the first attempt landed (page %s)", what, landed.id)
                        return full
        raise Unreachable(f"Could not {what}: Confluence kept failing; nothing was created. Run again later.")

    async def create_folder(self, space_id: str, title: str, parent_id: str | None) -> Page:
        """Create a Cloud folder, never twice: after a lost answer the parent's children are
        looked through for it (a folder holds nothing to tell it from another of its title)."""
        payload: dict[str, Any] = {"spaceId": space_id, "title": title}
        if parent_id:
            payload["parentId"] = parent_id
        what = f"create the folder '{title}'"
        for attempt in range(self.retry.attempts):
            try:
                response = await self.expect("POST", f"{V2}/folders", what=what, json_body=payload, idempotent=False)
                return page_from(response.json(), "folder")
            except MaybeSent:
                await asyncio.sleep(self.retry.backoff(attempt))
                if parent_id:
                    landed = await self.child_folder(parent_id, title)
                    if landed is not None:
                        log.info("%s: the first attempt landed (folder %s)", what, landed)
                        return await self.get_page(landed, body=False, kind="folder")
        raise Unreachable(f"Could not {what}: Confluence kept failing; nothing was created. Run again later.")

    async def child_folder(self, parent_id: str, title: str) -> str | None:
        """The id of the folder of this title right under a page or folder, if there is one."""
        for collection in ("pages", "folders"):  # the parent may be either
            try:
                async for item in self.paged(f"{V2}/{collection}/{parent_id}/direct-children",
                                             what=f"list the children of {parent_id}"):
                    if item.get("type") == "folder" and str(item.get("title", "")).lower() == title.lower():
                        return str(item["id"])
                return None
            except NotFound:
                continue
        return None

    async def child_positions(self, parent_id: str, *, parent_kind: str = "page") -> dict[str, int | None]:
        """The direct children of a page or folder (pages and folders), id -> position, in order."""
        return {str(item["id"]): item.get("childPosition") async for item in self.paged(
            f"{V2}/{_collection(parent_kind)}/{parent_id}/direct-children", what=f"list the children of {parent_id}",
            params={"sort": "child-position"})}

    async def move_page(self, page_id: str, where: str, target_id: str) -> None:
        """Put a page before or after a sibling (v1: v2 has no call to reorder); no new version."""
        await self.expect("PUT", f"{V1}/content/{page_id}/move/{where}/{target_id}",
                          what=f"move page {page_id} {where} {target_id}")

    async def update_page(self, page: Page, *, title: str, body: str, message: str = "",
                          parent_id: str | None = None) -> Page:
        """Write a new version (version + 1). A lost answer is recognised, not written twice."""
        number = page.version.number + 1
        payload: dict[str, Any] = {
            "id": page.id, "status": "current", "title": title,
            "body": {"representation": "storage", "value": body},
            "version": {"number": number, "message": message},
        }
        if page.type == "page" and (parent_id or page.parent_id):  # a space's home page has no parent
            payload["parentId"] = parent_id or page.parent_id
        what = f"update the page '{title}'"
        try:
            response = await self.expect("PUT", f"{V2}/{_collection(page.type)}/{page.id}", what=what,
                                         json_body=payload)
        except VersionConflict:
            # After a retried PUT whose first answer was lost, our own version is the current one:
            # the version we sent, with exactly our title and body.
            current = await self.get_page(page.id, kind=page.type)
            if current.version.number == number and current.version.message == message and current.title == title \
                    and current.body is not None and storage_digest(current.body) == storage_digest(body):
                return current
            raise
        return page_from(response.json(), page.type)

    async def delete_page(self, page_id: str, *, kind: str = "page") -> None:
        """Move to the trash (Confluence keeps it there; mdsync never purges)."""
        response = await self.request("DELETE", f"{V2}/{_collection(kind)}/{page_id}", what=f"trash {kind} {page_id}")
        if response.status_code not in (204, 404):
            raise error_for(response, what=f"trash {kind} {page_id}")

    async def versions(self, page_id: str) -> list[int]:
        return [int(item["number"]) async for item in
                self.paged(f"{V2}/pages/{page_id}/versions", what=f"list versions of page {page_id}")]

    # -- blog posts ------------------------------------------------------------------------------

    async def blog_posts(self, space_id: str, *, bodies: bool = False) -> list[Page]:
        params: dict[str, Any] = {"status": "current"}
        if bodies:
            params["body-format"] = "storage"
        return [page_from(item, "blogpost") async for item in
                self.paged(f"{V2}/spaces/{space_id}/blogposts", what="list the space's blog posts", params=params)]

    # -- content properties -----------------------------------------------------------------------

    async def get_property(self, page_id: str, key: str, *, kind: str = "page") -> Property | None:
        response = await self.expect("GET", f"{V2}/{_collection(kind)}/{page_id}/properties",
                                     what=f"read property {key} of {page_id}", params={"key": key})
        for item in response.json().get("results", []):
            if item.get("key") == key:
                return Property(str(item["id"]), key, item.get("value"), int((item.get("version") or {})["number"]))
        return None

    async def set_property(self, page_id: str, key: str, value: Any, *, kind: str = "page") -> Property:
        """Create or update a content property (mdsync keeps each page's source path and hash there)."""
        base = f"{V2}/{_collection(kind)}/{page_id}/properties"
        existing = await self.get_property(page_id, key, kind=kind)
        if existing is None:
            response = await self.request("POST", base, what=f"store property {key} on {page_id}",
                                          json_body={"key": key, "value": value})
            if response.status_code == 409:  # created meanwhile (or a retried first attempt landed)
                existing = await self.get_property(page_id, key, kind=kind)
            elif response.status_code != 200:
                raise error_for(response, what=f"store property {key} on {page_id}")
            else:
                item = response.json()
                return Property(str(item["id"]), key, item.get("value"), int(item["version"]["number"]))
        assert existing is not None
        if existing.value == value:
            return existing
        response = await self.expect("PUT", f"{base}/{existing.id}", what=f"update property {key} on {page_id}",
                                     json_body={"key": key, "value": value,
                                                "version": {"number": existing.version + 1}})
        item = response.json()
        return Property(str(item["id"]), key, item.get("value"), int(item["version"]["number"]))

    # -- labels -----------------------------------------------------------------------------------

    async def labels(self, page_id: str, *, kind: str = "page") -> list[Label]:
        return [Label(str(item["id"]), str(item["name"]), str(item.get("prefix") or "global")) async for item in
                self.paged(f"{V2}/{_collection(kind)}/{page_id}/labels", what=f"read labels of {page_id}")]

    async def add_labels(self, page_id: str, names: list[str]) -> None:
        if names:
            await self.expect("POST", f"{V1}/content/{page_id}/label", what=f"label page {page_id}",
                              json_body=[{"prefix": "global", "name": name} for name in names])

    async def remove_label(self, page_id: str, name: str) -> None:
        response = await self.request("DELETE", f"{V1}/content/{page_id}/label", what=f"unlabel page {page_id}",
                                      params={"name": name})
        if response.status_code not in (204, 404):
            raise error_for(response, what=f"remove label {name} from page {page_id}")

    # -- attachments --------------------------------------------------------------------------------

    async def attachments(self, page_id: str, *, kind: str = "page") -> list[Attachment]:
        return [attachment_from(item) async for item in
                self.paged(f"{V2}/{_collection(kind)}/{page_id}/attachments", what=f"list files of {page_id}")]

    async def upload_attachment(self, page_id: str, filename: str, data: bytes, *,
                                media_type: str = "application/octet-stream",
                                existing: Attachment | None = None) -> Attachment:
        """Upload a new file, or a new version of ``existing``. The file's hash goes in the comment,
        so a retry can tell whether a first attempt landed, and a sync whether the file changed."""
        comment = attachment_comment(data)
        form = {"minorEdit": "true", "comment": comment}
        files = {"file": (filename, data, media_type)}
        if existing is not None:
            path = f"{V1}/content/{page_id}/child/attachment/{existing.id.removeprefix('att')}/data"
        else:
            path = f"{V1}/content/{page_id}/child/attachment"
        what = f"upload {filename} to page {page_id}"
        for attempt in range(self.retry.attempts):
            try:
                response = await self.expect("POST", path, what=what, files=files, data=form, headers=XSRF,
                                             idempotent=False)
                body = response.json()
                return attachment_from(body["results"][0] if "results" in body else body)
            except MaybeSent:
                await asyncio.sleep(self.retry.backoff(attempt))
                for attachment in await self.attachments(page_id):
                    if attachment.title == filename and attachment.comment == comment:
                        return attachment
                if existing is None:
                    continue
        raise Unreachable(f"Could not {what}: Confluence kept failing. Run again later.")

    async def download(self, attachment: Attachment) -> bytes:
        """The file's bytes. Links and redirects are followed wherever they lead (Cloud sends
        downloads on to its media store, whose link carries its own token), but the
        credentials go only to the site (request())."""
        connection = await self.open()
        if not attachment.download_link:
            raise NotFound(f"Confluence gave no download link for {attachment.title}.", 404)
        what = f"download {attachment.title}"
        url = resolve(connection.api_base, attachment.download_link)
        for _hop in range(MAX_HOPS + 1):
            response = await self.request("GET", url, what=what, absolute=True, expect_json=False, elsewhere=True)
            if response.status_code not in REDIRECTS or "location" not in response.headers:
                break
            url = str(httpx.URL(url).join(response.headers["location"]))
        if response.status_code != 200:
            raise error_for(response, what=what)
        return response.content

    async def delete_attachment(self, attachment_id: str) -> None:
        number = attachment_id.removeprefix("att")
        response = await self.request("DELETE", f"{V2}/attachments/{number}", what=f"trash file {attachment_id}")
        if response.status_code not in (204, 404):
            raise error_for(response, what=f"trash file {attachment_id}")

    # -- who am I ---------------------------------------------------------------------------------

    async def current_user(self) -> dict[str, Any]:
        response = await self.expect("GET", f"{V1}/user/current", what="check the credentials")
        body = response.json()
        return {"accountId": body.get("accountId"), "displayName": body.get("displayName"),
                "email": body.get("email")}


class MaybeSent(Exception):
    """A non-idempotent request failed in a way that may have reached Confluence."""


def resolve(base: str, link: str) -> str:
    """A link from an answer as a URL: a path is appended to ``base`` (Confluence's links are
    relative to the site's /wiki or its root, also through a gateway); any other link is
    resolved as a browser would, so ``//host/x`` and ``https://host/x`` keep their host
    (and meet the origin check), never glued onto ours."""
    if link.startswith("/") and not link.startswith("//"):
        return base + link
    return str(httpx.URL(base + "/").join(link))


def _check_elsewhere(url: httpx.URL, *, what: str, allowed: bool, connection: Connection) -> None:
    """Refuse a URL on another origin where none is expected, or one that is not https."""
    if not allowed:
        raise BadAnswer(f"Confluence's answer to {what} points to {_origin(url)}, not to "
                        f"{_origin(httpx.URL(connection.api_base))}, and mdsync sends the credentials nowhere else: a "
                        "proxy may be rewriting Confluence's links; check confluence.url and run again.")
    if insecure(str(url)):
        raise BadAnswer(f"Confluence's answer to {what} points to {_origin(url)}, which is not https: "
                        "mdsync fetches nothing over plain http except from a loopback host; check the site (or a "
                        "proxy rewriting its links).")


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def attachment_comment(data: bytes) -> str:
    return "mdsync sha256:" + hashlib.sha256(data).hexdigest()


def _collection(kind: str) -> str:
    return {"blogpost": "blogposts", "folder": "folders"}.get(kind, "pages")


__all__ = ["ConfluenceClient", "ConfluenceError", "MaybeSent", "attachment_comment"]


def _no_connection(error: httpx.TransportError) -> str:
    """Why a connection could not be made, in a user's words (from the errors beneath it too:
    the asynchronous transport says only "All connection attempts failed")."""
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(cause, ConnectionRefusedError) for cause in chain):
        return "connection refused"
    text = " ".join(str(cause) for cause in chain).lower()
    if isinstance(error, httpx.ConnectTimeout) or "timed out" in text:
        return "the connection timed out"
    if "refused" in text:
        return "connection refused"
    if any(sign in text for sign in ("name or service not known", "nodename nor servname", "getaddrinfo",
                                     "name resolution", "no address associated")):
        return "the host name does not resolve"
    return "no connection"
