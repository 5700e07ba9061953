"""The configuration as the rest of mdsync sees it: frozen, typed, the token kept secret."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdsync.config import schema
from mdsync.config.schema import ATLASSIAN_GATEWAY, CONFIG_FILENAME, ENV_EMAIL, ENV_URL
from mdsync.config.values import MASK
from mdsync.errors import ConfigError
from mdsync.vocabulary import (
    AuthMode,
    ConflictPolicy,
    DeletePolicy,
    FileNames,
    FolderStyle,
    HomePage,
)


class Secret:
    """A credential that never shows itself: ``repr`` and ``str`` print a mask.

    Call :meth:`reveal` at the one place that needs the real value (the auth header).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant-time, so a comparison cannot be timed to guess the value.
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


@dataclass(frozen=True)
class ValueOrigin:
    """Where a credential came from, so that a missing one can be explained."""

    source: str = CONFIG_FILENAME
    line: int | None = None  # line of the key in the file; None when the file leaves it out
    env: str | None = None  # environment variable that filled it in
    unresolved: tuple[str, ...] = ()  # ${VAR}s in the file's value that were unset or empty


@dataclass(frozen=True)
class ConfluenceConfig:
    url: str | None = None
    auth: AuthMode = AuthMode.TOKEN
    email: str | None = None
    token: Secret | None = None
    cloud_id: str | None = None
    connection: str | None = None
    rate_limit: float | None = None
    # Where auth: bearer sends requests (Atlassian's API gateway); the sandbox serves it too.
    gateway: str = ATLASSIAN_GATEWAY
    # Keyed by "url", "email", "token"; only used to word require_credentials() errors.
    origins: Mapping[str, ValueOrigin] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept plain strs for convenience, but never keep one: a token becomes a Secret, a
        # mode its enum (an unknown one is a ValueError here, not a surprise later).
        if isinstance(self.token, str):
            object.__setattr__(self, "token", Secret(self.token) if self.token else None)
        object.__setattr__(self, "auth", AuthMode(self.auth))

    @property
    def token_env_var(self) -> str:
        """The environment variable that supplies the token for this auth mode."""
        variable = schema.BY_NAME["confluence.token"].env_for(self.auth)
        assert variable is not None
        return variable

    def require_credentials(self) -> None:
        """Raise ConfigError, in one sentence, when something needed to connect is missing."""
        missing: list[str] = []
        if not self.url:
            missing.append(
                self._missing("url", ENV_URL, "set confluence.url (e.g. https://your-site.atlassian.net)")
            )
        if self.auth == AuthMode.TOKEN and not self.email:
            missing.append(self._missing("email", ENV_EMAIL, "set confluence.email"))
        if not self.token:
            missing.append(self._missing("token", self.token_env_var, "set confluence.token"))
        if missing:
            raise ConfigError("; ".join(missing) + ".")

    def _missing(self, name: str, env_var: str, alternative: str) -> str:
        origin = self.origins.get(name, ValueOrigin())
        key = f"confluence.{name}"
        if origin.unresolved:
            names = " and ".join(origin.unresolved)
            refs = ", ".join("${" + n + "}" for n in origin.unresolved)
            return f"{key} is empty: export {names} ({origin.source} line {origin.line} refers to {refs})"
        if origin.line is not None:
            return f"{key} is empty in {origin.source} (line {origin.line}): {alternative} or export {env_var}"
        return f"{key} is missing: export {env_var} or {alternative} in {origin.source}"


@dataclass(frozen=True)
class SyncConfig:
    on_conflict: ConflictPolicy = ConflictPolicy.AUTO
    delete: DeletePolicy = DeletePolicy.KEEP
    max_delete_share: float | None = 0.2
    max_delete_count: int | None = None
    concurrency: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "on_conflict", ConflictPolicy(self.on_conflict))
        object.__setattr__(self, "delete", DeletePolicy(self.delete))


@dataclass(frozen=True)
class PullConfig:
    filenames: FileNames = FileNames.SLUG

    def __post_init__(self) -> None:
        object.__setattr__(self, "filenames", FileNames(self.filenames))


@dataclass(frozen=True)
class Config:
    path: Path | None
    root: Path
    confluence: ConfluenceConfig
    space: str
    parent: str | None
    docs: Path
    include: tuple[str, ...] = ("**/*.md",)
    exclude: tuple[str, ...] = ()
    include_outside: tuple[Path, ...] = ()  # absolute; what a push may read outside the repository
    folders: FolderStyle = FolderStyle.FOLDER
    home_page: HomePage = HomePage.KEEP
    sync: SyncConfig = field(default_factory=SyncConfig)
    pull: PullConfig = field(default_factory=PullConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folders", FolderStyle(self.folders))
        object.__setattr__(self, "home_page", HomePage(self.home_page))

    @property
    def state_dir(self) -> Path:
        return self.root / ".mdsync"

    def redacted(self) -> dict[str, Any]:
        """A plain dict of every key for display (``mdsync config``, ``--json``); the token is masked."""
        shown: dict[str, Any] = {"path": str(self.path) if self.path else None, "root": str(self.root)}
        for key in schema.KEYS:
            holder = getattr(self, key.section) if key.section else self
            target = shown.setdefault(key.section, {}) if key.section else shown
            target[key.leaf] = key.kind.show(model_value(key, holder))
        return shown


def model_value(key: schema.Key, holder: object) -> Any:
    """The value of a key as the model holds it (a key may fill several fields)."""
    parts = tuple(getattr(holder, name) for name in key.model_fields)
    return parts if len(parts) > 1 else parts[0]


def model_fields(key: schema.Key, value: Any) -> dict[str, Any]:
    """The model fields a key's value fills."""
    names = key.model_fields
    return dict(zip(names, value, strict=True)) if len(names) > 1 else {names[0]: value}
