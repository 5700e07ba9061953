"""File names made from page titles: safe on every OS, never outside the docs root.

Unicode is kept; ``/ \\ : * ? " < > |`` and control characters become ``-``; leading and
trailing dots and spaces go; Windows' reserved names (CON, NUL, COM1...) get a ``-page``
suffix; names stay under 120 characters. A name already taken gets a stable suffix (the
page id), so the same page always lands on the same file; so does a name the docs folder
reads otherwise: ``index``/``README`` (a folder's own page), ``NAME.remote`` (a conflict
copy) and ``NAME.assets`` (an attachment folder), which the scan would skip or misplace.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Collection

_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]+')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE)
MAX_NAME = 120
_INDEX_STEMS = ("index", "readme")  # docs.INDEX_FILES, compared without case


def safe_stem(title: str) -> str:
    """A file-name stem for a title (without extension)."""
    name = unicodedata.normalize("NFC", title)
    name = _FORBIDDEN.sub("-", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = re.sub(r"-{2,}", "-", name)
    if not name or name in (".", ".."):
        name = "page"
    if _RESERVED.match(name.split(".")[0]):
        name = f"{name}-page"
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME].rstrip(" .")
    return name


def unique_path(folder: str, stem: str, suffix: str, taken: Collection[str], page_id: str) -> str:
    """``folder/stem.suffix``, or with ``-<page id>`` when that path is taken.

    ``taken`` holds the paths in use lower-cased: names differing only in case clash on the
    file systems of macOS and Windows.
    """
    candidate = posixpath.join(folder, f"{stem}{suffix}") if folder else f"{stem}{suffix}"
    if candidate.lower() not in taken and not read_otherwise(stem, suffix):
        return candidate
    stem = f"{stem[: MAX_NAME - len(page_id) - 1]}-{page_id}"
    return posixpath.join(folder, f"{stem}{suffix}") if folder else f"{stem}{suffix}"


def read_otherwise(stem: str, suffix: str) -> bool:
    """Would the docs folder take ``stem + suffix`` for something other than a page of its own?"""
    lowered = stem.lower()
    if suffix == "/":
        return lowered.endswith(".assets")
    return lowered in _INDEX_STEMS or lowered.endswith((".remote", ".assets"))


def inside(root_relative: str) -> bool:
    """Is a relative path inside the docs root (no .., not absolute)?"""
    normal = posixpath.normpath(root_relative)
    return not (normal.startswith("../") or normal == ".." or normal.startswith("/"))
