"""What stands in front of the sandbox's routes: gateways, credentials, faults, counters.

One ASGI middleware, in the order a real request meets them:

1. **Gateways.** ``/ex/confluence/{cloudId}/wiki/...`` (api.atlassian.com, for scoped
   tokens and OAuth) and ``/confluence/ex/confluence/{cloudId}/wiki/...`` (Maton) are
   rewritten to the site form ``/wiki/...`` after their cloud id and rules are checked.
2. **Faults** (latency, 429, 503, dropped connections), only for the REST API.
3. **Credentials**: Basic ``email:token`` on the site; Basic or Bearer through the
   Atlassian gateway; Bearer (the Maton key) through Maton.
4. **Counters** of requests and writes, read by tests and benchmarks.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mdsync.sandbox.faults import Faults, delay, drop_connection, rate_limit_headers
from mdsync.sandbox.shapes import v1_error, v2_error
from mdsync.sandbox.store import Store

ATLASSIAN_GATEWAY = "/ex/confluence/"
MATON_GATEWAY = "/confluence/ex/confluence/"
MATON_RESOURCES = "/confluence/oauth/token/accessible-resources"
ATLASSIAN_RESOURCES = "/oauth/token/accessible-resources"
OPEN_PATHS = ("/_edge/tenant_info",)
DISCOVERY_PATHS = ("/_edge/tenant_info", MATON_RESOURCES, ATLASSIAN_RESOURCES)
API_PREFIXES = ("/wiki/api/", "/wiki/rest/", "/wiki/download/")
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass
class Credentials:
    email: str
    token: str

    def basic_ok(self, header: str) -> bool:
        try:
            decoded = base64.b64decode(header, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        email, _, token = decoded.partition(":")
        # compare_digest keeps the check constant-time; it takes non-ASCII only as bytes.
        return _same(email.lower(), self.email.lower()) & _same(token, self.token)

    def bearer_ok(self, token: str) -> bool:
        return _same(token.strip(), self.token)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class Stats:
    """Requests seen by the API, for tests that count what a command sent."""

    requests: int = 0
    writes: int = 0
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20000))

    def record(self, method: str, path: str, query: str, status: int, gateway: str | None) -> None:
        self.requests += 1
        if method in WRITE_METHODS:
            self.writes += 1
        self.log.append({"method": method, "path": path, "query": query, "status": status, "gateway": gateway})

    def reset(self) -> None:
        self.requests = 0
        self.writes = 0
        self.log.clear()

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "writes": self.writes, "log": list(self.log)}


class MatonLimiter:
    """The Maton gateway answers 429 above 10 requests per second per key."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._seen: deque[float] = deque()

    def allow(self) -> bool:
        if self.per_second <= 0:
            return True
        moment = time.monotonic()
        while self._seen and moment - self._seen[0] >= 1.0:
            self._seen.popleft()
        if len(self._seen) >= self.per_second:
            return False
        self._seen.append(moment)
        return True


async def _json(send: Send, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode("utf-8")
    raw_headers = [(b"content-type", b"application/json;charset=UTF-8"),
                   (b"content-length", str(len(payload)).encode())]
    raw_headers += [(key.lower().encode(), value.encode()) for key, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _error_body(path: str, status: int, code: str, title: str) -> Any:
    if path.startswith("/wiki/rest/"):
        return v1_error(status, title)
    return v2_error(status, code, title)


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, *, store: Store, credentials: Credentials, faults: Faults,
                 stats: Stats, maton_per_second: float = 10.0) -> None:
        self.app = app
        self.store = store
        self.credentials = credentials
        self.faults = faults
        self.stats = stats
        self.maton = MatonLimiter(maton_per_second)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        gateway: str | None = None
        if path.startswith(MATON_GATEWAY) or path == MATON_RESOURCES:
            gateway = "maton"
        elif path.startswith(ATLASSIAN_GATEWAY) or path == ATLASSIAN_RESOURCES:
            gateway = "atlassian"

        async def refuse(status: int, body: Any, extra: dict[str, str] | None = None) -> None:
            self.stats.record(method, path, query, status, gateway)
            await _json(send, status, body, extra)

        if gateway:
            if gateway == "maton" and not self.maton.allow():
                await refuse(429, {"code": 429, "message": "Rate limit exceeded: the Maton gateway allows "
                                                           "10 requests per second"}, {"Retry-After": "1"})
                return
            if not self._gateway_authorized(gateway, headers.get("authorization", "")):
                await refuse(401, {"code": 401, "message": "Unauthorized"})
                return
            if gateway == "maton" and headers.get("maton-connection") not in (None, "", self.store.connection_id):
                await refuse(400, {"code": 400, "message": "No active connection found for this Maton-Connection "
                                                           "id; create a Confluence connection at maton.ai"})
                return
            if path in (MATON_RESOURCES, ATLASSIAN_RESOURCES):
                scope = dict(scope, path="/_gateway/accessible-resources")
            else:
                prefix = MATON_GATEWAY if gateway == "maton" else ATLASSIAN_GATEWAY
                cloud_id, _, rest = path[len(prefix):].partition("/")
                if cloud_id != self.store.cloud_id:
                    await refuse(404, {"code": 404, "message": f"No Confluence site has cloud id '{cloud_id}'"})
                    return
                path = "/" + rest
                scope = dict(scope, path=path, raw_path=path.encode("utf-8"))
                scope["mdsync.prefix"] = prefix + cloud_id
            scope["mdsync.gateway"] = gateway

        is_api = path.startswith(API_PREFIXES)
        if is_api and path.endswith("/"):
            # Cloud serves /wiki/api/v2/pages/ as /wiki/api/v2/pages; a redirect built from the
            # Host header would send a client behind a proxy somewhere else.
            path = path.rstrip("/")
            scope = dict(scope, path=path, raw_path=path.encode("utf-8"))
        if is_api and self.faults.active:
            await delay(self.faults)
            if self.faults.roll(self.faults.drop_share):
                await drop_connection(send)
                return
            if self.faults.roll(self.faults.rate_limit_share):
                await refuse(429, _error_body(path, 429, "TOO_MANY_REQUESTS", "Rate limit exceeded"),
                             rate_limit_headers(self.faults.retry_after))
                return
            if self.faults.roll(self.faults.unavailable_share):
                await refuse(503, _error_body(path, 503, "SERVICE_UNAVAILABLE", "Service Unavailable"),
                             {"Retry-After": str(self.faults.retry_after)})
                return
            if method in ("POST", "PUT", "DELETE") and not await self.faults.admit_write():
                await drop_connection(send)
                return

        needs_auth = (is_api or path.startswith("/_sandbox/")) and path not in OPEN_PATHS
        if needs_auth and not gateway:
            scheme, _, value = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and value:
                await refuse(401, _error_body(path, 401, "UNAUTHORIZED",
                                              "Bearer tokens (scoped API tokens and OAuth) are accepted only "
                                              "through api.atlassian.com/ex/confluence/{cloudId}"))
                return
            if scheme.lower() != "basic" or not self.credentials.basic_ok(value.strip()):
                if self.faults.cloud_sign_in_errors and path.startswith("/wiki/rest/"):
                    await refuse(403, v1_error(403, "caller cannot access Confluence"))
                elif self.faults.cloud_sign_in_errors:
                    await refuse(404, v2_error(404, "NOT_FOUND", "Not Found"))
                else:
                    await refuse(401, _error_body(path, 401, "UNAUTHORIZED", "Unauthorized"),
                                 {"WWW-Authenticate": 'Basic realm="Confluence"'})
                return

        status_holder: dict[str, int] = {}
        lose_response = is_api and self.faults.roll(self.faults.lost_response_share)
        fate = self.faults.answer_changed() if is_api and method in ("POST", "PUT", "DELETE") else None
        lose_response = lose_response or fate is not None

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            if not lose_response:
                await send(message)

        await self.app(scope, receive, send_wrapper)
        if is_api or path in DISCOVERY_PATHS:  # cloud-id lookups count: a client should cache them
            self.stats.record(method, path, query, status_holder.get("status", 0), gateway)
        if fate == "hold":
            await self.faults.hold()
        elif fate == "fail":
            await _json(send, 500, _error_body(path, 500, "INTERNAL_SERVER_ERROR", "Internal Server Error"))
            return
        if lose_response:
            await drop_connection(send)

    def _gateway_authorized(self, gateway: str, authorization: str) -> bool:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return self.credentials.bearer_ok(value)
        # Scoped API tokens use Basic through api.atlassian.com; Maton takes only its own key.
        return gateway == "atlassian" and scheme.lower() == "basic" and self.credentials.basic_ok(value.strip())
