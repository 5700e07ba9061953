"""Reading Markdown files safely, and resolving links between files of a docs folder.

``read_markdown`` turns every kind of bad input (not UTF-8, binary, too big) into one
sentence that says what to do. ``FolderResolver`` answers the converter's questions about
relative links and images by looking at the folder on disk: it is what ``mdsync convert``
uses; the sync engine answers from its own map of the tree.
"""

from __future__ import annotations

import posixpath
from functools import lru_cache
from pathlib import Path

from mdsync.convert.frontmatter import split_front_matter
from mdsync.convert.to_storage import LinkTarget, anchors_of, first_heading, make_parser
from mdsync.errors import MdsyncError

# Confluence refuses request bodies over 5 MB; storage is never smaller than its Markdown.
MAX_MARKDOWN_BYTES = 4 * 1024 * 1024
INDEX_NAMES = ("index.md", "README.md", "readme.md")


class InputError(MdsyncError):
    """A file that cannot be converted as it is."""


def read_markdown(path: Path, shown: str | None = None) -> str:
    """The text of a Markdown file, or InputError saying what is wrong with it."""
    name = shown or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_MARKDOWN_BYTES:
            raise InputError(f"{name} is {size / 1024 / 1024:.1f} MB, more than Confluence accepts in one page "
                             f"({MAX_MARKDOWN_BYTES // 1024 // 1024} MB): split it into several files.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a folder, not a Markdown file.") from None
    except PermissionError:
        raise InputError(f"{name} cannot be read (permission denied): check its permissions.") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{name} looks like a binary file, not Markdown: exclude it from the docs folder.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(f"{name} is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}): "
                         "save it as UTF-8.") from None
    return text.replace("\r\n", "\n") if "\r\n" in text else text


def heading_anchors(markdown: str) -> dict[str, str]:
    """GitHub slug -> Confluence anchor for each heading of a Markdown text."""
    return anchors_of(make_parser().parse(markdown))


def markdown_title(text: str, path: str) -> str:
    """A file's page title: front matter, else first H1, else the file name."""
    try:
        front, body = split_front_matter(text)
    except MdsyncError:
        front, body = None, text
    if front is not None and front.title:
        return front.title
    title, _ = first_heading(body)
    return title or posixpath.splitext(posixpath.basename(path))[0] or "Untitled"


class FolderResolver:
    """Resolves relative links and images against the files of a docs folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _file(self, target: str) -> Path | None:
        candidate = (self.root / target).resolve()
        if not candidate.is_relative_to(self.root):
            return None
        if candidate.is_dir():
            for name in INDEX_NAMES:
                if (candidate / name).is_file():
                    return candidate / name
            return None
        return candidate if candidate.is_file() else None

    @lru_cache(maxsize=256)
    def _page(self, relative: str) -> tuple[str, dict[str, str]]:
        text = read_markdown(self.root / relative, relative)
        return markdown_title(text, relative), heading_anchors(split_front_matter(text)[1])

    def link(self, target: str, fragment: str | None) -> LinkTarget | None:
        found = self._file(target.rstrip("/") or ".")
        if found is None:
            return None
        relative = found.relative_to(self.root).as_posix()
        if found.suffix.lower() in (".md", ".markdown"):
            title, anchors = self._page(relative)
            anchor = anchors.get(fragment.lower(), fragment) if fragment else None
            return LinkTarget("page", title=title, anchor=anchor,
                              anchor_missing=bool(fragment) and fragment.lower() not in anchors)
        return LinkTarget("attachment", path=relative)

    def image(self, target: str) -> LinkTarget | None:
        found = self._file(target)
        if found is None:
            return None
        return LinkTarget("attachment", path=found.relative_to(self.root).as_posix())
