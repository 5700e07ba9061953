"""Serve a sandbox over real HTTP: in the foreground (``mdsync sandbox serve``) or in a
background thread on a free port (``mdsync demo``, tests, benchmarks)."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from types import TracebackType

import uvicorn

from mdsync.errors import SandboxError
from mdsync.sandbox.app import Sandbox


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _config(sandbox: Sandbox, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(sandbox.app, host=host, port=port, log_level=log_level, access_log=False,
                          lifespan="off", timeout_graceful_shutdown=2)


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so a busy port is our error to explain, not uvicorn's.

    The protocol is named: asyncio sets TCP_NODELAY only on sockets whose protocol says TCP,
    and without it every keep-alive answer waits about 40 ms for the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        reason = "the port is already in use" if error.errno in (48, 98, 10048) else (error.strerror or str(error))
        raise SandboxError(f"The sandbox cannot listen on {host}:{port}: {reason}; choose another with --port.") \
            from None
    return listener


def serve_forever(sandbox: Sandbox, host: str, port: int) -> None:
    """Run until Ctrl-C or SIGTERM (uvicorn handles both and shuts down cleanly).

    Ctrl-C ends in KeyboardInterrupt (exit 130) even when the server was started with SIGINT
    ignored, as a shell does for a script's background jobs: uvicorn stops on it either way,
    re-raises it once stopped, and an ignored signal would then end the run as a success.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    listener = bind(host, port)
    server = uvicorn.Server(_config(sandbox, host, port, "warning"))
    with listener:
        server.run(sockets=[listener])


class BackgroundServer:
    """A sandbox served by uvicorn in a daemon thread, for as long as the ``with`` block lasts."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(_config(sandbox, self.host, self.port, "error"))
        self._thread = threading.Thread(target=self._run, name="mdsync-sandbox", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except BaseException as error:  # reported to the starting thread
            self._error = error

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise SandboxError(f"The sandbox could not start on {self.url}: {self._error or 'it stopped'}")
            if time.monotonic() > deadline:
                raise SandboxError(f"The sandbox did not start on {self.url} within {timeout:.0f} seconds")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
