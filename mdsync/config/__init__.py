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
    """Read and validate a config file: ``path``, or a folder's mdsync.yaml; by default the
    nearest mdsync.yaml in the working folder or above it, as git finds ``.git``."""
    if path is None:
        target = find_config(Path.cwd())
    else:
        target = Path(path)
        if target.is_dir():
            target = target / CONFIG_FILENAME
    target = target.absolute()
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        where = f"{target.parent} or any folder above it" if path is None else str(target.parent)
        raise ConfigError(
            f"No {target.name} found in {where}: run 'mdsync init' in the folder that holds your docs "
            "folder (the repository's root), or pass --config PATH."
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


def find_config(start: Path) -> Path:
    """The nearest mdsync.yaml from ``start`` upward. The search ends at the repository's root
    (the folder holding ``.git``): a file outside the repository is never taken. Not found:
    ``start``'s mdsync.yaml, for the message."""
    start = start.absolute()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            break
    return start / CONFIG_FILENAME


def parse_config(
    text: str,
    *,
    root: Path,
    source: str = CONFIG_FILENAME,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, str] | None = None,
) -> Config:
    """Validate the text of a config file; relative paths resolve from ``root``.

    ``flags``: key -> the command-line flag its value came from (``mdsync init``): a bad value
    is then named by its flag, not by a line of a file not written yet."""
    reader = Reader(source, os.environ if environ is None else environ, flags or {})
    return reader.read(text, Path(os.path.abspath(root)))
