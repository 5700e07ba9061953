"""A sandbox served by uvicorn on a free loopback port, HTTP clients whose every exchange is
checked against Atlassian's OpenAPI documents, and helpers that make and update pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from mdsync.sandbox.app import Sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.openapi import check_exchange


@dataclass
class RunningSandbox:
    box: Sandbox
    server: BackgroundServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> Any:
        return self.box.store

def _validate(response: httpx.Response) -> None:
    response.read()
    check_exchange(response)

def contract_client(base_url: str, **kwargs: Any) -> httpx.Client:
    """An httpx client that fails the test on any exchange Atlassian's documents forbid."""
    kwargs.setdefault("timeout", 15)
    return httpx.Client(base_url=base_url, event_hooks={"response": [_validate]}, **kwargs)

def storage(value: str) -> dict[str, str]:
    return {"representation": "storage", "value": value}

def make_page(api: httpx.Client, space: dict[str, Any], title: str, body: str = "<p>text</p>",
              parent: str | None = None, **query: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"spaceId": space["id"], "status": "current", "title": title, "body": storage(body)}
    if parent is not None:
        payload["parentId"] = parent
    response = api.post("/wiki/api/v2/pages", json=payload, params=query or None)
    assert response.status_code == 200, response.text
    return response.json()

def update_page(api: httpx.Client, page: dict[str, Any], *, body: str | None = None, title: str | None = None,
                version: int | None = None, **extra: Any) -> httpx.Response:
    current = api.get(f"/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"}).json()
    payload = {
        "id": page["id"],
        "status": "current",
        "title": title if title is not None else current["title"],
        "body": storage(body if body is not None else current["body"]["storage"]["value"]),
        "version": {"number": version if version is not None else current["version"]["number"] + 1},
        **extra,
    }
    return api.put(f"/wiki/api/v2/pages/{page['id']}", json=payload)
