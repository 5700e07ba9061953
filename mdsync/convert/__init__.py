"""Markdown ⇄ Confluence storage format."""

from __future__ import annotations

from mdsync.convert.to_markdown import ConvertedBack, convert_storage, storage_to_markdown
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
    "ConvertedBack",
    "convert_storage",
    "storage_to_markdown",
    "LinkTarget",
    "convert_markdown",
    "markdown_to_storage",
]
