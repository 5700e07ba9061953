"""Heading anchors as GitHub and Confluence name them.

A Markdown link ``#install-on-linux`` uses GitHub's slug of the heading; Confluence links
to the same heading with ``ac:anchor="Install-on-Linux"`` (the heading text with runs of
whitespace replaced by ``-``, case and punctuation kept). Both converter directions and
the view renderer translate between the two through this module.
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
# GitHub keeps letters, digits, marks, connector punctuation, spaces and hyphens.
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


def confluence_anchor(text: str) -> str:
    """The anchor Confluence gives a heading: its text, whitespace runs as '-'."""
    return _WHITESPACE.sub("-", text.strip())


def github_slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as '-'."""
    lowered = unicodedata.normalize("NFC", text.strip()).lower()
    return _SLUG_DROP.sub("", lowered).replace(" ", "-")


class SlugCounter:
    """GitHub numbers repeated headings: intro, intro-1, intro-2."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        base = github_slug(text)
        count = self._seen.get(base)
        self._seen[base] = 0 if count is None else count + 1
        return base if count is None else f"{base}-{count + 1}"


class AnchorCounter:
    """Repeated headings get distinct Confluence anchors: Intro, Intro.1, Intro.2."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def anchor(self, text: str) -> str:
        base = confluence_anchor(text)
        count = self._seen.get(base)
        self._seen[base] = 0 if count is None else count + 1
        return base if count is None else f"{base}.{count + 1}"


def anchor_safe(label: str) -> str:
    """A label made into an anchor name: whitespace runs as '-' (footnotes' anchors)."""
    return _WHITESPACE.sub("-", label.strip()) or "note"
