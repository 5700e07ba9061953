"""httpx's own client and transport, with the idle-connection check made cheap.

Before each request and after each answer, httpcore's pool asks every idle connection whether
the server has closed it. Through anyio that question rebuilds a table of socket attributes
each time (which also asks the kernel for the peer's address) before it polls the socket: a
tenth of the main process's time in a 10,000-page push. Here each connection keeps its socket
from the start and polls it directly; everything else is anyio's and httpcore's own.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import sys
import typing

import httpcore
import httpx

log = logging.getLogger("mdsync.confluence")


def async_client(transport: httpx.AsyncBaseTransport | None = None, verify: ssl.SSLContext | bool = True,
                 **options: typing.Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` with ``options``. Without a ``transport`` of the caller's, httpx
    makes its own, with the proxies the environment names (HTTPS_PROXY, NO_PROXY...), and the
    direct one gets the cheap check. ``verify``: an SSL context to share (making one loads the
    CA bundle, some 50 ms)."""
    client = httpx.AsyncClient(transport=transport, verify=verify, **options)
    if transport is None:
        _cheapen(getattr(client, "_transport", None))  # (proxied connections keep httpx's own check)
    return client


def _cheapen(transport: object) -> None:
    pool = getattr(transport, "_pool", None)  # httpx keeps its httpcore pool here (0.23 to 0.28)
    if type(pool) is httpcore.AsyncConnectionPool and hasattr(pool, "_network_backend"):
        pool._network_backend = _Backend()
    else:  # a later httpx: its transport as it is, slower but the same answers
        log.debug("httpx's transport has no httpcore pool where expected; using it unchanged")


class _Backend(httpcore.AsyncNetworkBackend):
    """anyio's backend, its streams wrapped."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout=timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout=timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        # The TLS stream runs over the same socket: the check below holds for it as it is.
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname=server_hostname, timeout=timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return readable(self._socket)
        return self._inner.get_extra_info(info)


def readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once: on an idle connection, that the server closed it
    (or sent what no request asked for). A socket already gone counts as readable."""
    descriptor = -1 if sock is None else sock.fileno()
    if descriptor < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):
        return bool(select.select([descriptor], [], [], 0)[0])
    poll = select.poll()
    poll.register(descriptor, select.POLLIN)
    return bool(poll.poll(0))
