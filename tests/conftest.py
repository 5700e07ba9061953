"""Shared fixtures: a sandbox on a free loopback port, a client checked against the OpenAPI
documents, and the sandbox's DOCS space."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import settings

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.sandbox import RunningSandbox, contract_client

# make test draws the same examples on every run, so a failure there is the code's and not the
# draw's. To look for new counterexamples: make test PYTEST_ARGS=--hypothesis-profile=explore
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile("repeatable")


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    box = create_sandbox(spaces=("DOCS",))
    with BackgroundServer(box) as server:
        yield RunningSandbox(box, server)


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with contract_client(sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN)) as client:
        yield client


@pytest.fixture
def space(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/wiki/api/v2/spaces", params={"keys": "DOCS"})
    assert response.status_code == 200
    return response.json()["results"][0]
