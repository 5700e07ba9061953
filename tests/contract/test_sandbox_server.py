"""The socket ``mdsync sandbox serve`` listens on, as asyncio (and so uvicorn) uses it."""

from __future__ import annotations

import asyncio
import socket

from mdsync.sandbox.server import bind


def test_connections_accepted_on_the_served_socket_send_without_delay() -> None:
    """Without TCP_NODELAY every keep-alive answer waits ~40 ms for the client's delayed ACK;
    asyncio sets it only on a listener whose protocol says TCP."""
    async def nodelay_of_an_accepted_connection() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listener = bind("127.0.0.1", 0)
        server = await asyncio.start_server(accepted, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname())
            value = await asyncio.wait_for(seen, timeout=60)
            writer.close()
            return value

    assert asyncio.run(nodelay_of_an_accepted_connection()) != 0
