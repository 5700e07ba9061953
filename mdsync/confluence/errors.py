"""Confluence's refusals, as sentences a user can act on.

Every failed response ends up here; the messages name what went wrong and what to do, and
never contain a credential (requests carry them only in headers, which no message quotes).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from mdsync.errors import MdsyncError


class ConfluenceError(MdsyncError):
    """A request Confluence refused or that could not be completed."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationFailed(ConfluenceError):
    pass


class PermissionDenied(ConfluenceError):
    pass


class NotFound(ConfluenceError):
    pass


class TitleTaken(ConfluenceError):
    pass


class VersionConflict(ConfluenceError):
    def __init__(self, message: str, current: int | None, provided: int | None) -> None:
        super().__init__(message, 409)
        self.current = current
        self.provided = provided


class BodyRejected(ConfluenceError):
    pass


class RateLimited(ConfluenceError):
    pass


class Unreachable(ConfluenceError):
    """The network or the service failed beyond the retry budget."""


class BadAnswer(ConfluenceError):
    """An answer that is not what Confluence sends: an HTML page, JSON of the wrong shape."""


def html_page(response: httpx.Response, *, what: str) -> BadAnswer:
    return BadAnswer(f"Confluence answered {what} with an HTML page, not JSON (probably a login or proxy page) "
                     f"from {response.url.host}: check confluence.url, and sign in to any proxy or single sign-on in "
                     "front of the site.", response.status_code)


def bad_shape(what: str, problem: str) -> BadAnswer:
    return BadAnswer(f"Confluence's answer to {what} is not what Confluence sends ({problem}): a proxy may be in the "
                     "way; check confluence.url and run again.", 200)


class GatewayError(ConfluenceError):
    """The Maton or Atlassian gateway refused the request for its own reasons."""


def detail_of(response: httpx.Response) -> str:
    """The human part of an error body: v2 errors[0].title, v1 message, gateway message."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        text = response.text.strip()
        return re.sub(r"<[^>]+>", " ", text)[:300].strip() if text else ""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("title") or errors[0].get("detail") or "")
        for key in ("message", "error", "title"):
            if body.get(key):
                return str(body[key])
    return ""


API_TOKENS_PAGE = "https://id.atlassian.com/manage-profile/security/api-tokens"


def error_for(response: httpx.Response, *, what: str, gateway: str | None = None) -> ConfluenceError:
    """Map a failed response to the error a user can act on. ``what`` names the request."""
    status = response.status_code
    detail = detail_of(response)
    if gateway == "maton" and status == 400 and "connection" in detail.lower():
        return GatewayError("The Maton gateway has no active Confluence connection for this key: create one at "
                            "maton.ai (or set confluence.connection to the right connection id).", status)
    if gateway == "maton" and status == 401:
        return AuthenticationFailed("The Maton API key was refused: check MATON_API_KEY (it may have been "
                                    "revoked).", status)
    if status == 401:
        if "scope" in detail.lower():
            return PermissionDenied(f"The token lacks a scope {what} needs ({detail}): create a token with "
                                    "Confluence's read and write scopes for pages, spaces and attachments.", status)
        return AuthenticationFailed("Confluence refused the credentials: check confluence.email and the API "
                                    "token (tokens expire; create a new one at id.atlassian.com).", status)
    if status == 403 and ("cannot access confluence" in detail.lower() or "not permitted to use confluence"
                          in detail.lower()):
        # Cloud's v1 answer to credentials it did not accept: a sign-in problem, not a permission.
        return AuthenticationFailed("Confluence did not accept the credentials (an API token may have expired): "
                                    f"create a new token at {API_TOKENS_PAGE} and set it as confluence.token (or "
                                    "its environment variable).", status)
    if status == 403:
        return PermissionDenied(f"Confluence denied permission to {what}: ask a space admin for the needed "
                                f"permission{f' ({detail})' if detail else ''}.", status)
    try:
        writing = response.request.method in ("POST", "PUT", "DELETE")
    except RuntimeError:  # a response made without a request (tests)
        writing = False
    if status == 404 and writing and "permission" in detail.lower() and "not exist" not in detail.lower():
        # v2 answers a missing add/edit/delete permission with a 404 (Atlassian's OpenAPI document).
        return PermissionDenied(f"Confluence denied permission to {what} ({detail}): ask a space admin for the "
                                "permission to add and edit pages.", status)
    if status == 404 and writing and detail in ("", "Not Found"):
        return NotFound(f"Confluence answered 'not found' to {what}: the page may have been deleted, or your "
                        "account may not edit it (Cloud answers a missing permission so); check both.", status)
    if status == 404:
        if detail in ("", "Not Found"):
            # Confluence Cloud answers a bare 404 to v2 requests without valid credentials.
            return NotFound(f"Confluence found nothing to {what}: the page or space may not exist, or the "
                            "credentials cannot see it (check the token and its permissions).", status)
        return NotFound(f"Confluence could not {what}: {detail}.", status)
    if status == 409:
        numbers = re.findall(r"\[(\d+)\]", detail)
        current, provided = (int(numbers[0]), int(numbers[1])) if len(numbers) >= 2 else (None, None)
        return VersionConflict(f"The page changed in Confluence while mdsync was writing it (Confluence has "
                               f"version {current}, mdsync sent {provided}): run the command again to pick up "
                               "the change.", current, provided)
    if status == 400 and "folder exists with the same title" in detail.lower():
        return TitleTaken(f"A folder with that title already exists in the space ({what}): rename the directory, "
                          "or move that folder into the tree in Confluence.", status)
    if status == 400 and "title already exists" in detail.lower():
        return TitleTaken(f"Another page in the space already has that title ({what}): give the page a "
                          "different title (front matter 'title:' or its first heading).", status)
    if status == 400 and detail.lower().startswith("error parsing xhtml"):
        return BodyRejected(f"Confluence rejected the page body ({detail}): this is a converter bug, please "
                            "report it with the file.", status)
    if status == 413:
        return BodyRejected(f"Confluence refused the request as too large ({what}): split the page or shrink "
                            "the file.", status)
    if status == 429:
        return RateLimited(f"Confluence kept rate-limiting requests ({what}) beyond mdsync's retry budget: "
                           "wait a while and run again, or lower sync.concurrency / confluence.rate_limit.",
                           status)
    if status >= 500:
        return Unreachable(f"Confluence answered {status} to {what} and kept failing after retries: it may be "
                           "down; try again later.", status)
    return ConfluenceError(f"Confluence refused to {what} ({status}{': ' + detail if detail else ''}).", status)
