"""mdsync: keep a folder of Markdown files and a Confluence page tree in step."""

from __future__ import annotations

__version__ = "0.1.0"

from mdsync.convert import markdown_to_storage, storage_to_markdown  # noqa: E402  (after __version__)

__all__ = ["__version__", "markdown_to_storage", "storage_to_markdown"]
