"""The contract checker itself: it must catch what breaks Atlassian's documents,
and every API route the sandbox serves must be one those documents describe."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from mdsync.sandbox.app import routes
from tests.support.openapi import ContractError, check_exchange, documents_for

PAGE = {"id": "1", "status": "current", "title": "T", "spaceId": "2", "version": {"number": 1}}


def exchange(method: str, url: str, status: int, body: Any, *, request_json: Any = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request(method, "http://127.0.0.1" + url, json=request_json)
    content = json.dumps(body).encode() if body is not None else b""
    response = httpx.Response(status, request=request, content=content,
                              headers={"content-type": "application/json", **(headers or {})})
    response.read()
    return response


def test_a_valid_page_passes() -> None:
    check_exchange(exchange("GET", "/wiki/api/v2/pages/1", 200, PAGE))


@pytest.mark.parametrize("bad", [
    {**PAGE, "id": 1},                        # ids are strings
    {**PAGE, "status": "published"},          # not a ContentStatus
    {**PAGE, "version": {"number": "one"}},   # numbers are integers
    {**PAGE, "parentType": "chapter"},        # not a ParentContentType
])
def test_a_wrong_page_shape_is_caught(bad: dict[str, Any]) -> None:
    with pytest.raises(ContractError):
        check_exchange(exchange("GET", "/wiki/api/v2/pages/1", 200, bad))


def test_null_is_treated_as_absent_but_nothing_else_is_loosened() -> None:
    check_exchange(exchange("GET", "/wiki/api/v2/pages/1", 200, {**PAGE, "parentId": None}))
    with pytest.raises(ContractError):
        check_exchange(exchange("GET", "/wiki/api/v2/pages/1", 200, {**PAGE, "parentId": 5}))


def test_invented_routes_and_invalid_requests_are_caught() -> None:
    with pytest.raises(ContractError, match="not an operation"):
        check_exchange(exchange("GET", "/wiki/api/v2/pages/1/made-up", 200, {}))
    with pytest.raises(ContractError):
        check_exchange(exchange("GET", "/wiki/api/v2/pages?limit=500", 200, {"results": []}))
    with pytest.raises(ContractError):
        check_exchange(exchange("PUT", "/wiki/api/v2/pages/1", 200, PAGE, request_json={"title": "no version"}))


def test_error_envelopes_are_checked() -> None:
    good = {"errors": [{"status": 409, "code": "CONFLICT", "title": "x", "detail": None}]}
    check_exchange(exchange("PUT", "/wiki/api/v2/pages/1", 409, good))
    with pytest.raises(ContractError):
        check_exchange(exchange("PUT", "/wiki/api/v2/pages/1", 409, {"message": "x"}))
    with pytest.raises(ContractError):
        check_exchange(exchange("GET", "/wiki/rest/api/user/current", 401, {"errors": []}))


def _sandbox_api_routes() -> list[tuple[str, str]]:
    found = []
    for route in routes():
        if isinstance(route, Route) and route.path.startswith(("/wiki/api/v2/", "/wiki/rest/api/")):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, route.path))
    return found


@pytest.mark.parametrize(("method", "path"), _sandbox_api_routes())
def test_every_sandbox_api_route_is_a_documented_operation(method: str, path: str) -> None:
    concrete = re.sub(r"\{[^}]+\}", "123", path)
    documents = documents_for(concrete)
    assert any(document.find(method.lower(), concrete) for document in documents), f"{method} {path}"
