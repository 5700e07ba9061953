"""A site that cannot be reached fails fast, naming it (issue 15, item 4); a site that has
answered and then drops a connection is retried as before.

The client over ``httpx.MockTransport`` (connection errors raised by the transport), with no
waiting between attempts.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mdsync.config import ConfluenceConfig
from mdsync.confluence.client import ConfluenceClient
from mdsync.confluence.errors import Unreachable
from mdsync.confluence.retry import RetryPolicy

SITE = "https://site.example.com"


class Flaky:
    """Refuses the first ``refusals`` connections after ``answers`` answers."""

    def __init__(self, error: Exception, answers: int = 0, refusals: int = 1000) -> None:
        self.error, self.answers, self.refusals, self.calls = error, answers, refusals, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.answers:
            self.answers -= 1
            return httpx.Response(200, json={"results": [], "_links": {}})
        if self.refusals:
            self.refusals -= 1
            raise self.error
        return httpx.Response(200, json={"results": [], "_links": {}})


def get(network: Flaky, times: int = 1) -> None:
    config = ConfluenceConfig(url=SITE, auth="token", email="a@example.com", token="tok-1", cloud_id="c")

    async def go() -> None:
        client = ConfluenceClient(config, transport=httpx.MockTransport(network), timeout=10,
                                  retry=RetryPolicy(base_delay=0, jitter=0))
        async with client:
            for _ in range(times):
                await client.request("GET", "/wiki/api/v2/spaces", what="list spaces")

    asyncio.run(go())


@pytest.mark.parametrize(("error", "reason"), [
    (httpx.ConnectError("All connection attempts failed"), "no connection"),
    (httpx.ConnectError("[Errno -2] Name or service not known"), "the host name does not resolve"),
    (httpx.ConnectTimeout("timed out"), "the connection timed out"),
])
def test_a_site_that_never_answers_is_given_up_after_one_retry(error: Exception, reason: str) -> None:
    network = Flaky(error)
    with pytest.raises(Unreachable) as raised:
        get(network)
    assert network.calls == 2
    assert str(raised.value).startswith(f"Could not connect to {SITE} ({reason}) to list spaces"), raised.value
    assert "check confluence.url in mdsync.yaml" in str(raised.value)


def test_a_refusal_is_named_from_the_error_beneath_the_transports() -> None:
    refused = httpx.ConnectError("All connection attempts failed")
    refused.__cause__ = ConnectionRefusedError(111, "Connect call failed")
    with pytest.raises(Unreachable, match=r"\(connection refused\)"):
        get(Flaky(refused))


def test_a_site_that_has_answered_gets_every_retry_of_a_dropped_connection() -> None:
    network = Flaky(httpx.ConnectError("All connection attempts failed"), answers=1, refusals=3)
    get(network, times=2)  # the second request meets three refusals, then an answer
    assert network.calls == 1 + 4
