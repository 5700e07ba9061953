"""Storage -> HTML, the way Confluence shows a page (the sandbox's preview, the fidelity tests)."""

from mdsync.preview.view import VIEW_CLASS, VIEW_CSS, heading_anchor, render_storage

__all__ = ["VIEW_CLASS", "VIEW_CSS", "heading_anchor", "render_storage"]
