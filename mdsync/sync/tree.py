"""The local docs tree: which Markdown files are pages, and how they nest.

Each ``.md`` file is a page. A folder is a page too: its ``index.md`` or ``README.md``,
else a ``NAME.md`` beside the folder ``NAME/``, else a page mdsync makes, titled after the
folder. Files in a folder are children of the folder's page; files at the top are children
of the tree's root page (``parent`` in mdsync.yaml).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

INDEX_FILES = ("index.md", "README.md", "readme.md", "Index.md")
CONFLICT_SUFFIX = ".remote.md"


@dataclass(frozen=True)
class LocalDoc:
    """One page as the docs folder has it.

    ``path`` is the file's path relative to the docs root (``guides/install.md``), or the
    folder's path with a trailing slash (``guides/``) for a folder page with no file.
    """

    path: str
    parent: str | None
    md_hash: str | None
    folder: str | None = None  # for folder pages: the folder they stand for

    @property
    def has_file(self) -> bool:
        return not self.path.endswith("/")


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """A glob with ``**`` (any number of folders) as a regular expression."""
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            out += ".*"
            index += 2
        elif pattern[index] == "*":
            out += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            out += "[^/]"
            index += 1
        else:
            out += re.escape(pattern[index])
            index += 1
    return re.compile(out + r"\Z")


def matches(path: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(_glob(pattern).match(path) for pattern in patterns)


def scan(root: Path, include: tuple[str, ...] = ("**/*.md",), exclude: tuple[str, ...] = ()) -> dict[str, LocalDoc]:
    """Every page of the docs folder, keyed by path."""
    files: list[str] = []
    folders: set[str] = set()
    for current, dirnames, filenames in os.walk(root):
        relative_dir = Path(current).relative_to(root).as_posix()
        relative_dir = "" if relative_dir == "." else relative_dir
        # Hidden folders (.git, .mdsync) and attachment folders are not part of the tree.
        dirnames[:] = sorted(name for name in dirnames if not name.startswith(".") and not name.endswith(".assets")
                             and not matches(posixpath.join(relative_dir, name) + "/", exclude))
        for name in sorted(filenames):
            path = posixpath.join(relative_dir, name) if relative_dir else name
            if not name.lower().endswith(".md") or name.endswith(CONFLICT_SUFFIX) or name.startswith("."):
                continue
            if matches(path, include) and not matches(path, exclude):
                files.append(path)
                folders.update(_ancestors(path))
    return _build(root, files, folders)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: index + 1]) for index in range(len(parts))]


def _build(root: Path, files: list[str], folders: set[str]) -> dict[str, LocalDoc]:
    present = set(files)
    folder_page: dict[str, str] = {}
    for folder in sorted(folders):
        own = next((posixpath.join(folder, name) for name in INDEX_FILES if posixpath.join(folder, name) in present),
                   None)
        beside = f"{folder}.md"
        folder_page[folder] = own or (beside if beside in present else f"{folder}/")

    def parent_of(path: str) -> str | None:
        folder = posixpath.dirname(path.rstrip("/"))
        return folder_page.get(folder) if folder else None

    docs: dict[str, LocalDoc] = {}
    pages_for = {page: folder for folder, page in folder_page.items()}
    for folder, page in folder_page.items():
        if page.endswith("/"):
            docs[page] = LocalDoc(page, parent_of(page), None, folder)
    for path in files:
        data = (root / path).read_bytes()
        folder = pages_for.get(path)
        # A folder's page sits one level up from its folder.
        parent = parent_of(folder) if folder is not None and folder_page.get(folder) == path else parent_of(path)
        if folder is not None and path.endswith(f"{folder}.md"):
            parent = parent_of(folder)
        docs[path] = LocalDoc(path, parent, file_hash(data), folder)
    return docs
