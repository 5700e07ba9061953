"""Markdown ⇄ Confluence storage format.

The names below load on first use, so a part that needs one module of the converter (the
state reads ``carry``) does not load both directions.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdsync.convert.to_markdown import ConvertedBack, convert_storage, storage_to_markdown
    from mdsync.convert.to_storage import (
        AttachmentRef,
        Converted,
        ConversionWarning,
        LinkTarget,
        convert_markdown,
        markdown_to_storage,
    )

_HOMES = {
    "ConvertedBack": "to_markdown", "convert_storage": "to_markdown", "storage_to_markdown": "to_markdown",
    "AttachmentRef": "to_storage", "Converted": "to_storage", "ConversionWarning": "to_storage",
    "LinkTarget": "to_storage", "convert_markdown": "to_storage", "markdown_to_storage": "to_storage",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mdsync.convert' has no attribute {name!r}")
    return getattr(import_module(f"mdsync.convert.{home}"), name)
