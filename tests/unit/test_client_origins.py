"""Credentials go only to the configured site (or the gateway that stands for it).

The client over ``httpx.MockTransport``, so that sites that are not loopback can be named:
a download link or redirect elsewhere is followed with nothing of the site's (no
Authorization, no Maton-Connection, no cookie), never over plain http, and a listing's next
link elsewhere stops the run instead of being sent the token.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mdsync.config import ConfluenceConfig
from mdsync.confluence.client import ConfluenceClient
from mdsync.confluence.errors import BadAnswer, ConfluenceError
from mdsync.confluence.models import Attachment

SITE = "https://site.example.com"
MATON = "https://api.maton.ai"
TOKEN = "tok-Origin5Kq2Xr8Lm"
EMAIL = "writer@example.com"
CLOUD = "cloud-1"
FILE = b"the file's bytes"
Handler = Callable[[httpx.Request], httpx.Response]


class Network:
    """Every request the client sends, answered by ``answer`` (a 404 by default)."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.sent: list[httpx.Request] = []
        self.answer = answer or (lambda request: httpx.Response(404))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.answer(request)

    def to(self, host: str, port: int | None = None) -> list[httpx.Request]:
        return [request for request in self.sent if request.url.host == host and request.url.port == port]


def client(network: Network, *, maton: bool = False) -> ConfluenceClient:
    if maton:
        config = ConfluenceConfig(url=MATON, auth="maton", token=TOKEN, cloud_id=CLOUD, connection="conn-7")
    else:
        config = ConfluenceConfig(url=SITE, auth="token", email=EMAIL, token=TOKEN, cloud_id=CLOUD)
    return ConfluenceClient(config, transport=httpx.MockTransport(network), timeout=10)


def attachment(link: str) -> Attachment:
    return Attachment("att1", "pic.png", "10", "image/png", len(FILE), 1, download_link=link)


def download(network: Network, link: str, *, maton: bool = False) -> bytes:
    async def go() -> bytes:
        async with client(network, maton=maton) as confluence:
            return await confluence.download(attachment(link))
    return asyncio.run(go())


def listing(network: Network) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with client(network) as confluence:
            return [item async for item in confluence.paged("/api/v2/spaces", what="list the spaces")]
    return asyncio.run(go())


def carries_nothing_of_ours(request: httpx.Request) -> bool:
    secret_forms = (TOKEN, base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode())
    headers = " ".join(f"{name}: {value}" for name, value in request.headers.items())
    names = {name.lower() for name in request.headers}
    return not ({"authorization", "maton-connection", "cookie"} & names) and \
        not any(form in headers for form in secret_forms)


def test_a_download_link_on_another_origin_gets_neither_credentials_nor_the_sites_cookies() -> None:
    # Same host, another port: another origin, though a cookie jar would send the site's cookies there.
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.port == 8443:
            return httpx.Response(200, content=FILE)
        return httpx.Response(302, headers={"location": "https://site.example.com:8443/media/pic?token=t",
                                            "set-cookie": "session=site-secret; Path=/"})

    network = Network(answer)
    assert download(network, "/download/attachments/10/pic.png") == FILE
    first, media = network.sent
    assert first.url.host == "site.example.com" and first.url.port is None
    assert first.headers["authorization"].startswith("Basic ")  # the site itself gets them
    assert media.url.port == 8443 and carries_nothing_of_ours(media), media.headers


def test_a_redirect_from_the_maton_gateway_to_the_media_store_carries_no_key_nor_connection() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.media.atlassian.com":
            return httpx.Response(200, content=FILE)
        return httpx.Response(302, headers={"location": "https://api.media.atlassian.com/file/1/binary?token=t"})

    network = Network(answer)
    assert download(network, "/download/attachments/10/pic.png", maton=True) == FILE
    gateway, media = network.sent
    assert gateway.url.host == "api.maton.ai" and gateway.headers["maton-connection"] == "conn-7"
    assert carries_nothing_of_ours(media), media.headers


@pytest.mark.parametrize("link", ["https://media.example.com/pic.png", "//media.example.com/pic.png"])
def test_an_absolute_download_link_elsewhere_is_fetched_without_credentials(link: str) -> None:
    network = Network(lambda request: httpx.Response(200, content=FILE))
    assert download(network, link) == FILE
    (media,) = network.sent
    assert media.url.host == "media.example.com" and carries_nothing_of_ours(media)


@pytest.mark.parametrize("how", ["link", "redirect"])
def test_plain_http_to_a_host_that_is_not_loopback_is_refused(how: str) -> None:
    elsewhere = "http://media.example.com/pic.png?token=media-token"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": elsewhere})

    network = Network(answer)
    with pytest.raises(BadAnswer) as refused:
        download(network, elsewhere if how == "link" else "/download/attachments/10/pic.png")
    assert "not https" in refused.value.message and "http://media.example.com" in refused.value.message
    assert network.to("media.example.com") == []  # nothing went out, not even the media token


def test_plain_http_to_our_own_host_is_another_origin_and_refused_too() -> None:
    # https://site -> http://site would be a downgrade: the credentials must not follow it.
    network = Network(lambda request: httpx.Response(302, headers={"location": "http://site.example.com/x"}))
    with pytest.raises(BadAnswer):
        download(network, "/download/attachments/10/pic.png")
    assert [request.url.scheme for request in network.sent] == ["https"]


def pages_then(next_link: str) -> Handler:
    """A listing whose first answer points its next page at ``next_link``."""
    def answer(request: httpx.Request) -> httpx.Response:
        if "cursor" in request.url.params:
            return httpx.Response(200, json={"results": [{"id": "2"}], "_links": {}})
        return httpx.Response(200, json={"results": [{"id": "1"}], "_links": {"next": next_link}})
    return answer


@pytest.mark.parametrize("next_link", ["https://evil.example/wiki/api/v2/spaces?cursor=x",
                                       "//evil.example/wiki/api/v2/spaces?cursor=x",
                                       "http://site.example.com/wiki/api/v2/spaces?cursor=x"])
def test_a_next_link_to_another_origin_stops_the_listing_and_gets_no_token(next_link: str) -> None:
    network = Network(pages_then(next_link))
    with pytest.raises(BadAnswer) as refused:
        listing(network)
    assert "sends the credentials nowhere else" in refused.value.message
    assert len(network.sent) == 1 and network.to("evil.example") == []


def test_a_next_link_cannot_smuggle_a_host_in_as_user_information() -> None:
    # Glued onto "https://site.example.com" this would read as user "site.example.com" at evil.example.
    network = Network(pages_then("@evil.example/wiki/api/v2/spaces?cursor=x"))
    listing(network)
    assert network.to("evil.example") == []
    assert all(request.url.host == "site.example.com" for request in network.sent)


def test_an_absolute_next_link_on_our_own_origin_is_followed() -> None:
    network = Network(pages_then(f"{SITE}/wiki/api/v2/spaces?cursor=x"))
    assert [item["id"] for item in listing(network)] == ["1", "2"]
    assert all(request.headers["authorization"].startswith("Basic ") for request in network.sent)


def test_a_redirect_is_never_followed_on_an_api_request() -> None:
    # httpx follows no redirect for us (follow_redirects=False): a listing redirected
    # elsewhere is an answer to refuse, not a place to send the token.
    network = Network(lambda request: httpx.Response(302, headers={"location": "https://evil.example/x"}))
    with pytest.raises(ConfluenceError):
        listing(network)
    assert network.to("evil.example") == []
