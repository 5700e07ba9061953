"""The HTTP transport's cheaper idle-connection check (mdsync/confluence/transport.py) answers
as httpcore's own does: a connection the server closed is never reused.

Real sockets over loopback: a raw HTTP/1.1 server on a port the OS picks, which answers one
request on each connection and then hangs up.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import httpcore
import pytest

from mdsync.confluence.transport import _Backend, _Stream, async_client, readable

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
PATIENCE = 60.0  # seconds for a hang-up to reach the client: a bound for a loaded machine, never a figure


def test_a_socket_reads_as_readable_once_its_peer_has_hung_up() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not readable(ours)  # idle and open: a request may go out on it
        theirs.close()
        assert readable(ours)  # the next read returns b"": the connection is finished


def test_a_socket_gone_or_missing_counts_as_readable() -> None:
    gone = socket.socket()
    gone.close()
    assert readable(gone)
    assert readable(None)


def test_httpx_transport_is_given_the_cheap_check() -> None:
    """If a new httpx keeps its pool elsewhere, the transport still works but slower; this
    says so."""
    pool = async_client()._transport._pool  # where the client reaches into httpx
    assert isinstance(pool._network_backend, _Backend)


def test_a_proxy_the_environment_names_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours HTTP_PROXY and the rest only for a transport of its own making, which is
    why the check is given to httpx's transport and no transport is handed in."""
    asked: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        asked.append(head.split(b"\r\n")[0])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    async def go() -> int:
        server = await asyncio.start_server(proxy, "127.0.0.1", 0)
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        async with server, async_client(timeout=PATIENCE) as client:
            return (await client.get("http://confluence.example.test/wiki/api/v2/spaces")).status_code

    assert asyncio.run(go()) == 200
    assert asked == [b"GET http://confluence.example.test/wiki/api/v2/spaces HTTP/1.1"]


def test_a_connection_the_server_closed_is_not_used_again() -> None:
    connections = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(ANSWER)
        await writer.drain()
        writer.close()  # says keep-alive, then hangs up: what a server's idle timeout does
        await writer.wait_closed()

    async def go() -> list[bytes]:
        server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        bodies = []
        async with server, httpcore.AsyncConnectionPool(network_backend=_Backend()) as pool:
            bodies.append((await pool.request("GET", f"http://127.0.0.1:{port}/first")).content)
            # The pool drops the connection once the check sees the hang-up: at once when
            # the answer is released, or at the next look.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + PATIENCE
            while pool.connections and not pool.connections[0].has_expired() and loop.time() < deadline:
                await asyncio.sleep(0.01)
            assert not pool.connections or pool.connections[0].has_expired(), \
                "the server's hang-up never showed on the idle connection"
            bodies.append((await pool.request("GET", f"http://127.0.0.1:{port}/second")).content)
        return bodies

    assert asyncio.run(go()) == [b"ok", b"ok"]
    assert connections == 2  # the second request went out on a new connection


def test_the_check_holds_over_tls() -> None:
    """``start_tls`` hands back a wrapped stream, so https connections keep the check."""

    async def go() -> object:
        plain = _Stream(httpcore.AsyncMockStream([]))
        return await plain.start_tls(ssl.create_default_context(), server_hostname="site.example.com")

    assert isinstance(asyncio.run(go()), _Stream)
