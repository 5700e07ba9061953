"""mdsync: keep a folder of Markdown files and a Confluence page tree in step."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
