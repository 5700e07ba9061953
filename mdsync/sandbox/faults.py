"""Fault injection: make the sandbox slow, rate-limited, unavailable or unreliable on purpose.

Tests and benchmarks use it to prove that mdsync retries, backs off and never duplicates
a page when a response is lost. Faults apply only to the REST API, never to the preview.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from mdsync.errors import UsageError

ENV_PREFIX = "MDSYNC_SANDBOX_"
HOLDS = ("hold_writes_after", "hold_answers_after", "fail_answers_after")
INTEGER_SETTINGS = ("retry_after", "seed", *HOLDS)
BOOLEAN_SETTINGS = ("cloud_sign_in_errors",)


@dataclass
class Faults:
    """What share of API requests goes wrong, and how.

    ``drop_share``: the connection closes before the request is handled (nothing happens).
    ``lost_response_share``: the request is handled, then the connection closes before the
    answer arrives, as when a network fails mid-response.
    ``hold_writes_after``: that many writes (POST, PUT, DELETE) are handled; each one after
    them waits, unhandled, until the faults are next changed, then its connection closes. A
    test can so stop a client between two writes it knows, on a machine of any speed.
    ``hold_answers_after``: the same, but each write after them is handled first and only its
    answer waits (then its connection closes): Confluence did it and the client never heard,
    as when a run is killed between a create and its record.
    ``fail_answers_after``: each write after that many is handled, then answered 500, as Cloud
    sometimes answers a create it has made.
    ``cloud_sign_in_errors``: wrong or expired credentials are answered as Cloud answers them,
    a bare 404 from v2 and a 403 "caller cannot access Confluence" from v1, not a 401.
    """

    latency_ms: float = 0.0
    rate_limit_share: float = 0.0
    unavailable_share: float = 0.0
    drop_share: float = 0.0
    lost_response_share: float = 0.0
    retry_after: int = 1
    seed: int | None = None
    hold_writes_after: int | None = None
    hold_answers_after: int | None = None
    fail_answers_after: int | None = None
    cloud_sign_in_errors: bool = False

    def __post_init__(self) -> None:
        self.validate()
        self._random = random.Random(self.seed)
        self._writes_handled = 0
        self._changes = 0  # how often the settings changed: a held write waits for the next change
        self.held = 0  # writes waiting now

    def validate(self) -> None:
        for name in ("rate_limit_share", "unavailable_share", "drop_share", "lost_response_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UsageError(f"{name.replace('_', '-')} must be between 0 and 1, got {value}")
        if self.latency_ms < 0:
            raise UsageError(f"latency must not be negative, got {self.latency_ms}")
        if self.retry_after < 0:
            raise UsageError(f"retry-after must not be negative, got {self.retry_after}")
        for name in HOLDS:
            if (getattr(self, name) or 0) < 0:
                raise UsageError(f"{name.replace('_', '-')} must not be negative, got {getattr(self, name)}")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def update(self, changes: Mapping[str, Any]) -> None:
        """Change settings at run time (the admin endpoint), checking every value."""
        known = {f.name: f.type for f in fields(self)}
        merged = asdict(self)
        for key, value in changes.items():
            if key not in known:
                raise UsageError(f"unknown fault setting '{key}'; known: {', '.join(sorted(known))}")
            if key in ("seed", *HOLDS):
                merged[key] = None if value is None else int(value)
            elif key == "retry_after":
                merged[key] = int(value)
            elif key in BOOLEAN_SETTINGS:
                merged[key] = _boolean(value, key)
            else:
                merged[key] = float(value)
        candidate = Faults(**merged)
        for f in fields(self):
            setattr(self, f.name, getattr(candidate, f.name))
        if "seed" in changes:
            self._random = random.Random(self.seed)
        if any(hold in changes for hold in HOLDS):
            self._writes_handled = 0
        self._changes += 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Faults:
        """Settings from MDSYNC_SANDBOX_* variables; explicit overrides (flags) win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            if f.name in BOOLEAN_SETTINGS:
                values[f.name] = _boolean(raw, ENV_PREFIX + f.name.upper())
                continue
            try:
                values[f.name] = int(raw) if f.name in INTEGER_SETTINGS else float(raw)
            except ValueError:
                raise UsageError(f"{ENV_PREFIX}{f.name.upper()} must be a number, got {raw!r}") from None
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    @property
    def active(self) -> bool:
        return any((self.latency_ms, self.rate_limit_share, self.unavailable_share, self.drop_share,
                    self.lost_response_share, *(getattr(self, hold) is not None for hold in HOLDS)))

    def roll(self, share: float) -> bool:
        return share > 0 and self._random.random() < share

    async def admit_write(self) -> bool:
        """Whether a write may be handled; past ``hold_writes_after``, hold it and answer no."""
        if self.hold_writes_after is None:
            return True
        if self._writes_handled < self.hold_writes_after:
            self._writes_handled += 1
            return True
        await self.hold()
        return False

    def answer_changed(self) -> str | None:
        """What becomes of the answer to a write about to be handled: "hold", "fail" or None."""
        for setting, fate in (("hold_answers_after", "hold"), ("fail_answers_after", "fail")):
            after = getattr(self, setting)
            if after is not None:
                self._writes_handled += 1
                return fate if self._writes_handled > after else None
        return None

    async def hold(self) -> None:
        """Wait until the settings next change."""
        changes = self._changes
        self.held += 1
        try:
            while self._changes == changes:
                await asyncio.sleep(0.02)
        finally:
            self.held -= 1


def rate_limit_headers(retry_after: int) -> dict[str, str]:
    """The headers Confluence Cloud sends with a 429."""
    reset = datetime.now(timezone.utc) + timedelta(seconds=retry_after)
    return {
        "Retry-After": str(retry_after),
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "RateLimit-Reason": "confluence-quota-tenant-based",
    }


async def drop_connection(send: Any) -> None:
    """End the exchange mid-response so the client sees the connection close.

    Announcing a body and never sending it makes uvicorn close the socket, which a client
    meets as a broken connection, just as it would when a network fails.
    """
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")]})
    await send({"type": "http.response.body", "body": b"", "more_body": True})


async def delay(faults: Faults) -> None:
    if faults.latency_ms > 0:
        await asyncio.sleep(faults.latency_ms / 1000)


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise UsageError(f"{name} must be true or false, got {value!r}")
