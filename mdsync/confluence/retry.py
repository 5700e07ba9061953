"""Retries, backoff and limits for requests to Confluence.

429 (honouring Retry-After, else the rate-limit reset header), 502, 503, 504 and broken
connections are retried with exponential backoff and jitter, within a cap on attempts and
on total waiting. Whether a request may be retried blindly is the caller's call: reads and
PUTs may, a page create may not (see ``client.create_page``). Every request passes a cap on
requests in flight and, optionally, a cap on requests per second.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Failures where the request may have reached Confluence before the connection broke.
UNCERTAIN = (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteError)


@dataclass
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 120.0
    jitter: float = 0.3  # +/- share of each delay, so many clients do not retry in step
    random: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * (2 ** attempt))
        return max(0.0, delay * (1 + self.random.uniform(-self.jitter, self.jitter)))

    def delay_for(self, response: httpx.Response | None, attempt: int) -> float:
        """How long to wait before the next attempt, preferring what the server asked for."""
        if response is not None:
            asked = retry_after(response)
            if asked is not None:
                return min(asked, self.max_delay)
        return self.backoff(attempt)


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds or as an HTTP date; else X-RateLimit-Reset; None if neither."""
    value = response.headers.get("retry-after") or response.headers.get("beta-retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(min(int(value), 24 * 3600))  # Confluence has sent Long.MAX_VALUE
        try:
            moment = parsedate_to_datetime(value)
            return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            moment = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())
        except ValueError:
            return None
    return None


class Throttle:
    """At most ``concurrency`` requests in flight and, if set, ``per_second`` started per second."""

    def __init__(self, concurrency: int, per_second: float | None = None) -> None:
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Throttle:
        await self._slots.acquire()
        if self._interval:
            async with self._lock:
                now = time.monotonic()
                wait = self._next - now
                self._next = max(now, self._next) + self._interval
            if wait > 0:
                await asyncio.sleep(wait)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._slots.release()
