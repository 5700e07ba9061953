"""A sandbox started as a user starts one (``mdsync sandbox serve`` in another terminal): a
process in the background, waited for until it answers (``wait_until_answered``, which the
sandbox CLI tests use too), stopped with SIGTERM at the end."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


@contextmanager
def serving(argv: Sequence[str], url: str, *, cwd: Path, env: dict[str, str],
            timeout: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """``argv`` running in the background until the block ends; the block starts once ``url``
    answers. Its output goes to ``cwd/serve.log``, quoted when it exits early or never answers."""
    log_path = cwd / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        try:
            wait_until_answered(process, f"{url.rstrip('/')}/_edge/tenant_info", timeout, log_path.read_text)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def wait_until_answered(process: subprocess.Popen[Any], probe: str, timeout: float,
                        output: Callable[[], str]) -> None:
    """Return once ``probe`` answers 200; fail with ``output()`` if the process exits first or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.returncode}: {output()}")
        try:
            if httpx.get(probe, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{process.args} did not answer within {timeout} s: {output()}")
        time.sleep(0.02)
