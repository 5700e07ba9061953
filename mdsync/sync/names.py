"""File names made from page titles and attachment names: safe on every OS, never outside
the docs root; and the check every path from Confluence or the state passes before a write.

A page's file is named by its title in one of two styles (``pull.filenames``): ``slug``, as
docs-as-code repositories name files (lower case, one ``-`` for each run of spaces and
punctuation, letters and digits of every script kept: ``Colleague FAQ`` -> ``colleague-faq``,
``日本語ページ`` as it is; nothing left -> the page id), or ``title``, the title as it is with
``/ \\ : * ? " < > |`` and control characters made ``-`` and leading and trailing dots and
spaces gone. Both: Windows' reserved names (CON, NUL, COM1...) get a ``-page`` suffix;
names stay under 120 characters. A name already taken gets a stable suffix (the page id),
so the same page always lands on the same file; so does a name the docs folder reads
otherwise: ``index``/``README`` (a folder's own page), ``NAME.remote`` (a conflict copy) and
``NAME.assets`` (an attachment folder), which the scan would skip or misplace.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path

from mdsync.errors import MdsyncError
from mdsync.vocabulary import FileNames

_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]+')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME = 120
_INDEX_STEMS = ("index", "readme")  # docs.INDEX_FILES, compared without case


class OutsideDocs(MdsyncError):
    """A path from Confluence or from the state would land outside the docs root: nothing is written."""


def page_stem(title: str, style: FileNames, page_id: str) -> str:
    """The file-name stem (without extension) of a page made in Confluence, in the style
    ``pull.filenames`` asks for."""
    return slug_stem(title, empty=page_id) if style == FileNames.SLUG else safe_stem(title)


def safe_stem(title: str, empty: str = "page") -> str:
    """A file-name stem for a title (without extension); ``empty`` when nothing of it is left."""
    name = unicodedata.normalize("NFC", title)
    name = _FORBIDDEN.sub("-", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = re.sub(r"-{2,}", "-", name)
    if not name or name in (".", ".."):
        name = empty
    return _bounded(name, " .")


def slug_stem(title: str, empty: str) -> str:
    """A docs-as-code stem for a title: lower case, letters, digits and combining marks of any
    script kept (a mark is part of its letter in Devanagari or Thai), every run of anything
    else one ``-``, none at either end; ``empty`` when nothing is left (``???``)."""
    lowered = unicodedata.normalize("NFC", unicodedata.normalize("NFC", title).lower())
    kept = "".join(char if unicodedata.category(char)[0] in "LNM" else "-" for char in lowered)
    name = re.sub(r"-{2,}", "-", kept).strip("-") or empty
    return _bounded(name, "-")


def _bounded(name: str, trailing: str) -> str:
    """A stem no Windows reserved name (``con`` -> ``con-page``) and no longer than MAX_NAME."""
    if _RESERVED.match(name.split(".")[0]):
        name = f"{name}-page"
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME].rstrip(trailing)
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


def safe_file_name(name: str) -> str:
    """A file name for an attachment's name (Confluence allows almost any), by the rules of
    ``safe_stem`` with its extension kept; of a name with folders in it (``../../x.txt``,
    ``C:\\x.txt``), the last part. A name that had to change gets a stable suffix made from
    it, so two attachments never share a file."""
    wanted = unicodedata.normalize("NFC", name)
    stem, extension = posixpath.splitext(re.split(r"[/\\]", wanted)[-1])
    extension = _FORBIDDEN.sub("-", extension).rstrip(" .")
    safe = safe_stem(stem, empty="file")
    if safe + extension == wanted:
        return wanted
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe[: MAX_NAME - 9].rstrip('-') or 'file'}-{digest}{extension}"


def inside(root_relative: str) -> bool:
    """Is a path from Confluence or the state one inside the docs root: relative, without a
    drive letter or NUL, and no ``..`` out of it (``\\`` taken as the folder separator Windows reads)?"""
    if not root_relative or "\x00" in root_relative:
        return False
    path = root_relative.replace("\\", "/")
    normal = posixpath.normpath(path)
    return not (path.startswith("/") or _DRIVE.match(path) or normal in (".", "..") or normal.startswith("../"))


def docs_file(root: Path, relative: str) -> Path:
    """Where a path from Confluence or the state is written: inside the docs root, symbolic
    links followed (a linked folder leads nowhere else either); else OutsideDocs."""
    target = root / relative
    if not inside(relative) or not Path(os.path.realpath(target)).is_relative_to(os.path.realpath(root)):
        raise OutsideDocs(f"'{relative}' would be written outside the docs folder {root}, so mdsync wrote nothing "
                          "there: check what Confluence or .mdsync/state.json names it.")
    return target
