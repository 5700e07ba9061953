"""mdsync.yaml -> Config: typed, frozen, validated.

One table (schema.py) lists every key; the reader (reader.py) validates a file against it
through mdsync.strict_yaml, so every problem names its key and line, duplicate keys are
caught and only plain values are read. Credentials are wrapped in :class:`Secret` the
moment they are read, and no message this package builds ever contains one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from mdsync.config.model import (
    Config,
    ConfluenceConfig,
    Secret,
    SyncConfig,
    ValueOrigin,
)
from mdsync.config.reader import Reader
from mdsync.config.schema import (
    ATLASSIAN_GATEWAY,
    CONFIG_FILENAME,
    ENV_EMAIL,
    ENV_MATON_KEY,
    ENV_TOKEN,
    ENV_URL,
    MATON_RATE_LIMIT,
    MATON_URL,
    MAX_CONCURRENCY,
)
from mdsync.errors import ConfigError
from mdsync.vocabulary import AuthMode, ConflictPolicy, DeletePolicy

__all__ = [
    "ATLASSIAN_GATEWAY",
    "AUTH_MODES",
    "CONFIG_FILENAME",
    "CONFLICT_POLICIES",
    "DELETE_POLICIES",
    "ENV_EMAIL",
    "ENV_MATON_KEY",
    "ENV_TOKEN",
    "ENV_URL",
    "MATON_RATE_LIMIT",
    "MATON_URL",
    "MAX_CONCURRENCY",
    "Config",
    "ConfluenceConfig",
    "Secret",
    "SyncConfig",
    "ValueOrigin",
    "load_config",
    "parse_config",
]

AUTH_MODES = tuple(AuthMode)
CONFLICT_POLICIES = tuple(ConflictPolicy)
DELETE_POLICIES = tuple(DeletePolicy)


def load_config(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file (default ``./mdsync.yaml``; a folder means its mdsync.yaml)."""
    target = Path(path) if path is not None else Path(CONFIG_FILENAME)
    if target.is_dir():
        target = target / CONFIG_FILENAME
    target = target.absolute()
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"No {target.name} found in {target.parent}: run 'mdsync init' or pass --config PATH."
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {target}: {exc.strerror or exc}.") from None
    try:
        text = data.decode("utf-8-sig")  # tolerate a BOM left by some Windows editors
    except UnicodeDecodeError as exc:
        # Only the line is named: quoting the bytes could show part of a token.
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{target.name} is not UTF-8 text (line {line} holds bytes that are not UTF-8); "
            "save it with UTF-8 encoding."
        ) from None
    config = parse_config(text, root=target.parent, source=target.name, environ=environ)
    return replace(config, path=target)


def parse_config(
    text: str,
    *,
    root: Path,
    source: str = CONFIG_FILENAME,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate the text of a config file; relative paths resolve from ``root``."""
    reader = Reader(source, os.environ if environ is None else environ)
    return reader.read(text, Path(os.path.abspath(root)))
