"""Markdown ⇄ Confluence storage format."""

from __future__ import annotations

from mdsync.convert.to_storage import (
    AttachmentRef,
    Converted,
    ConversionWarning,
    LinkTarget,
    convert_markdown,
    markdown_to_storage,
)

__all__ = [
    "AttachmentRef",
    "ConversionWarning",
    "Converted",
    "LinkTarget",
    "convert_markdown",
    "markdown_to_storage",
]
