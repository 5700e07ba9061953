"""mdsync: keep a folder of Markdown files and a Confluence page tree in step.

The converters load on first use (``mdsync.markdown_to_storage``, ``mdsync.storage_to_markdown``),
so importing the client, the planner or the sandbox does not load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "markdown_to_storage", "storage_to_markdown"]

if TYPE_CHECKING:
    from mdsync.convert import markdown_to_storage, storage_to_markdown


def __getattr__(name: str) -> Any:
    if name in ("markdown_to_storage", "storage_to_markdown"):
        from mdsync import convert

        return getattr(convert, name)
    raise AttributeError(f"module 'mdsync' has no attribute {name!r}")
