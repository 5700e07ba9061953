"""Where requests go and how they prove who sends them, for each ``confluence.auth``.

- ``token``: an Atlassian account's email and API token (HTTP Basic) against the site,
  ``https://SITE.atlassian.net/wiki/...``.
- ``bearer``: a scoped API token (Basic with the account's email, when ``email`` is set)
  or an OAuth access token (``Authorization: Bearer``), through Atlassian's gateway
  ``https://api.atlassian.com/ex/confluence/{cloudId}/wiki/...``. The cloud id is found from
  the site's ``/_edge/tenant_info``, else from ``accessible-resources``.
- ``maton``: the Maton gateway, ``Authorization: Bearer $MATON_API_KEY`` against
  ``https://api.maton.ai/confluence/ex/confluence/{cloudId}/wiki/...``, the cloud id from
  Maton's ``accessible-resources`` (the first site unless ``cloud_id`` names one), and
  ``Maton-Connection`` when ``confluence.connection`` is set.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from mdsync.config import ConfluenceConfig
from mdsync.config.values import is_loopback
from mdsync.confluence.errors import (
    AuthenticationFailed,
    ConfluenceError,
    GatewayError,
    Unreachable,
    detail_of,
)
from mdsync.errors import ConfigError


@dataclass(frozen=True)
class Connection:
    """The API base and the headers every request carries (credentials included)."""

    api_base: str        # ends in /wiki: /api/v2/... and /rest/api/... are appended
    site_url: str | None
    cloud_id: str | None
    auth: str
    headers: dict[str, str]

    def owns(self, url: httpx.URL) -> bool:
        """Whether a URL is on the origin (scheme, host, port) the credentials are for: the
        site, or the gateway that stands for it. Nothing else ever gets them."""
        base = httpx.URL(self.api_base)
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    @property
    def root(self) -> str:
        """What Confluence's site-relative links (/wiki/api/v2/...) are appended to."""
        return self.api_base[: -len("/wiki")]

    def __repr__(self) -> str:  # never show the headers: they hold the credentials
        return f"Connection(api_base={self.api_base!r}, auth={self.auth!r}, cloud_id={self.cloud_id!r})"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")


def insecure(url: str) -> bool:
    """Whether a URL is not https, nor plain http to a loopback host (the sandbox): what
    mdsync sends nothing over, credentials or not (a media link carries its own token)."""
    parts = urlsplit(url)
    return parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname or ""))


def _check_transport(url: str) -> None:
    if insecure(url):
        raise ConfigError(f"mdsync will not send credentials over plain http to {urlsplit(url).hostname}: "
                          "use https://.")


async def connect(config: ConfluenceConfig, http: httpx.AsyncClient, *, cloud_id: str | None = None) -> Connection:
    """Work out the API base and credentials; discovers the cloud id when needed."""
    config.require_credentials()
    assert config.url is not None and config.token is not None
    token = config.token.reveal()
    if config.auth == "token":
        _check_transport(config.url)
        return Connection(f"{config.url}/wiki", config.url, cloud_id or config.cloud_id, "token",
                          {"Authorization": basic(config.email or "", token)})
    if config.auth == "bearer":
        _check_transport(config.gateway)
        if config.email:
            credentials = basic(config.email, token)  # a scoped API token
        else:
            credentials = f"Bearer {token}"  # an OAuth access token
        found = cloud_id or config.cloud_id or await _discover_atlassian(config, http, credentials)
        return Connection(f"{config.gateway}/ex/confluence/{found}/wiki", config.url, found, "bearer",
                          {"Authorization": credentials})
    _check_transport(config.url)
    headers = {"Authorization": f"Bearer {token}"}
    if config.connection:
        headers["Maton-Connection"] = config.connection
    found = cloud_id or config.cloud_id or await _discover_maton(config, http, headers)
    return Connection(f"{config.url}/confluence/ex/confluence/{found}/wiki", None, found, "maton", headers)


async def _discover_atlassian(config: ConfluenceConfig, http: httpx.AsyncClient, credentials: str) -> str:
    assert config.url is not None
    try:
        response = await http.get(f"{config.url}/_edge/tenant_info")
        if response.status_code == 200 and response.json().get("cloudId"):
            return str(response.json()["cloudId"])
        response = await http.get(f"{config.gateway}/oauth/token/accessible-resources",
                                  headers={"Authorization": credentials})
    except (httpx.TransportError, ValueError) as error:
        raise Unreachable(f"Could not reach {config.url} to find its cloud id ({type(error).__name__}): check "
                          "confluence.url and the network, or set confluence.cloud_id.") from None
    return _pick_site(response, config, "the Atlassian gateway")


async def _discover_maton(config: ConfluenceConfig, http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    try:
        response = await http.get(f"{config.url}/confluence/oauth/token/accessible-resources", headers=headers)
    except httpx.TransportError as error:
        raise Unreachable(f"Could not reach the Maton gateway at {config.url} ({type(error).__name__}): check the "
                          "network.") from None
    return _pick_site(response, config, "the Maton gateway")


def _pick_site(response: httpx.Response, config: ConfluenceConfig, where: str) -> str:
    if response.status_code == 401:
        raise AuthenticationFailed(f"{where[0].upper()}{where[1:]} refused the credentials: check the token "
                                   "(and that it is meant for this kind of auth).", 401)
    if response.status_code == 400 and config.auth == "maton":
        raise GatewayError("The Maton gateway has no active Confluence connection for this key: create one at "
                           "maton.ai (or set confluence.connection).", 400)
    if response.status_code != 200:
        raise ConfluenceError(f"{where[0].upper()}{where[1:]} did not list the sites this token may use "
                              f"({response.status_code}: {detail_of(response)}): set confluence.cloud_id.",
                              response.status_code)
    sites = response.json()
    if not isinstance(sites, list) or not sites:
        raise ConfluenceError(f"The token reaches no Confluence site through {where}: grant it access to the "
                              "site, or set confluence.cloud_id.")
    if config.cloud_id:
        return config.cloud_id
    if config.url and config.auth != "maton":
        for site in sites:
            if str(site.get("url", "")).rstrip("/") == config.url.rstrip("/"):
                return str(site["id"])
    return str(sites[0]["id"])
