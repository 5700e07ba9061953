"""The docs folder: which files are pages, their titles, how they nest, where links point.

The one model of the folder that the sync, ``mdsync check`` and ``mdsync convert`` share:

- **Pages.** Each ``.md`` file is a page. A folder is a page too: its ``index.md`` or
  ``README.md``, else a ``NAME.md`` beside the folder ``NAME/``, else a page mdsync makes,
  titled after the folder. Files in a folder are children of the folder's page; files at
  the top are children of the tree's root page (``parent`` in mdsync.yaml).
- **Titles.** Front matter's ``title``, else the first H1, else the folder's name (for an
  index file), else the file's name; and where it came from (``TitleSource``).
- **Links.** A relative link to a page's file (or its folder) is a link to that page; to
  another file, an attachment; nothing outside the docs folder is either, but for what
  mdsync.yaml's ``include_outside`` lists.
- **Reach.** Nothing outside the repository (the folder of mdsync.yaml) is read, but for
  what ``include_outside`` lists: a file, image or folder whose symbolic links lead out
  is refused by name, never read (``Reach``).
- **The title rule.** Confluence holds one page per title in a space, ignoring case.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mdsync.errors import MdsyncError
from mdsync.vocabulary import TitleSource

if TYPE_CHECKING:
    from mdsync.convert.to_storage import LinkTarget

# The folder's layout (scan, folder_of, paths) is what the planner reads: it loads no converter.
# Titles, anchors and links read Markdown, so they import the converter when first used.

INDEX_FILES = ("index.md", "README.md", "readme.md", "Index.md")
CONFLICT_SUFFIX = ".remote.md"
# Confluence refuses request bodies over 5 MB; storage is never smaller than its Markdown.
MAX_MARKDOWN_BYTES = 4 * 1024 * 1024


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
    refused: str | None = None  # why the file (or linked folder) is not read: it leads outside the reach

    @property
    def has_file(self) -> bool:
        return not self.path.endswith("/")


@dataclass(frozen=True)
class Reach:
    """Where a push may read: the repository (the folder of mdsync.yaml), the docs folder, and
    what mdsync.yaml's ``include_outside`` lists (``shared``). Paths are compared with their
    symbolic links followed, so neither a link nor a ``..`` leads anywhere else."""

    folders: tuple[Path, ...]
    shared: tuple[Path, ...] = ()

    @classmethod
    def of(cls, repository: Path, docs: Path, shared: Iterable[Path] = ()) -> Reach:
        return cls((_real(repository), _real(docs)), tuple(_real(path) for path in shared))

    def allows(self, path: Path) -> bool:
        real = _real(path)
        return any(real.is_relative_to(folder) for folder in (*self.folders, *self.shared))

    def shares(self, path: Path) -> bool:
        """Whether ``path`` is in what ``include_outside`` lists (may be attached from outside the docs)."""
        real = _real(path)
        return any(real.is_relative_to(folder) for folder in self.shared)

    def refusal(self, path: Path, shown: str) -> str | None:
        """Why ``path`` (named ``shown``) may not be read, if it may not: a symbolic link that
        leads out of the reach, or nowhere."""
        link = os.path.islink(path)
        if link:
            try:
                os.stat(path)
            except FileNotFoundError:
                return f"{shown} is a symbolic link to {os.readlink(path)}, which does not exist: restore it or " \
                       "remove the link."
            except OSError:
                return f"{shown} is a symbolic link that leads round in a loop: remove the link."
        if self.allows(path):
            return None
        what = "is a symbolic link to" if link else "leads to"
        way_out = "remove the link" if shown.endswith("/") else \
            "remove the link, or list its target under include_outside in mdsync.yaml to share it"
        return f"{shown} {what} {_real(path)}, outside the repository: mdsync never reads it for a push ({way_out})."


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


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


def scan(root: Path, include: tuple[str, ...] = ("**/*.md",), exclude: tuple[str, ...] = (),
         reach: Reach | None = None) -> dict[str, LocalDoc]:
    """Every page of the docs folder, keyed by path. With a ``reach``, a file whose symbolic
    link leads out of it (or nowhere) is listed ``refused``, unread; so is a linked folder
    that leads out (linked folders are never walked: the tree would hold their files twice,
    or for ever in a loop)."""
    files: list[str] = []
    folders: set[str] = set()
    refused: dict[str, str] = {}
    # Below the root the walk crosses no link (linked folders are not walked), so a file that
    # is not a link itself is where its path says: inside the reach if the root is. Only links
    # are resolved (realpath for each of 10,000 files was a fifth of a no-op sync).
    root_inside = reach is not None and reach.allows(root)
    for current, dirnames, filenames in os.walk(root):
        relative_dir = Path(current).relative_to(root).as_posix()
        relative_dir = "" if relative_dir == "." else relative_dir
        # Hidden folders (.git, .mdsync) and attachment folders are not part of the tree.
        dirnames[:] = sorted(name for name in dirnames if not name.startswith(".") and not name.endswith(".assets")
                             and not matches(posixpath.join(relative_dir, name) + "/", exclude))
        for name in dirnames if reach is not None else ():
            path = posixpath.join(relative_dir, name) + "/"
            if os.path.islink(Path(current, name)) and (why := reach.refusal(Path(current, name), path)):
                refused[path] = why
        for name in sorted(filenames):
            path = posixpath.join(relative_dir, name) if relative_dir else name
            if not name.lower().endswith(".md") or name.endswith(CONFLICT_SUFFIX) or name.startswith("."):
                continue
            if matches(path, include) and not matches(path, exclude):
                if (shown := _name_not_utf8(path)) is not None:  # kept under its shown name: no surrogate travels
                    refused[shown] = f"{shown} has a name that is not UTF-8 (the bytes shown as \\xNN), so " \
                                     "Confluence and mdsync's state cannot hold it: rename it."
                    continue
                full = os.path.join(current, name)
                if reach is not None and (not root_inside or os.path.islink(full)) \
                        and (why := reach.refusal(Path(full), path)):
                    refused[path] = why
                    continue
                files.append(path)
                folders.update(_ancestors(path))
    docs = _build(root, files, folders)
    for path, why in refused.items():
        docs[path] = LocalDoc(path, None, None, refused=why)
    return docs


def _name_not_utf8(path: str) -> str | None:
    """For a path whose bytes are not UTF-8 (Python reads them as lone surrogates), the path
    with those bytes written as ``\\xff``; None for a path that is UTF-8."""
    try:
        path.encode("utf-8")
        return None
    except UnicodeEncodeError:
        pass
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte (not from a Linux file name)
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


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


def folder_of(path: str) -> str:
    """The folder a page's children live in: ``guides/index.md`` -> ``guides``, ``a.md`` -> ``a``."""
    if path.endswith("/"):
        return path.rstrip("/")
    directory, name = posixpath.split(path)
    if name in INDEX_FILES:
        return directory
    return posixpath.join(directory, name[: -len(".md")]) if name.endswith(".md") else path


def conflict_copy(path: str) -> str:
    """Where Confluence's side of a conflict is written: ``NAME.remote.md`` beside the file."""
    clean = path.rstrip("/")
    if path.endswith("/"):
        return posixpath.join(clean, "index" + CONFLICT_SUFFIX)
    return (clean[: -len(".md")] if clean.endswith(".md") else clean) + CONFLICT_SUFFIX


def inside(root: Path, target: Path) -> bool:
    """Whether a path, symbolic links followed, stays inside ``root``."""
    return target.resolve().is_relative_to(root.resolve())


# -- reading files --------------------------------------------------------------------------


class InputError(MdsyncError):
    """A file that cannot be converted as it is."""


def read_markdown(path: Path, shown: str | None = None, reach: Reach | None = None) -> str:
    """The text of a Markdown file, or InputError saying what is wrong with it (one a symbolic
    link leads out of ``reach`` is not read)."""
    name = shown or str(path)
    refused = reach.refusal(path, name) if reach is not None else None
    if refused:
        raise InputError(refused)
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


# -- titles ---------------------------------------------------------------------------------


@dataclass
class FileInfo:
    """What a file says about its page before any conversion."""

    title: str
    title_source: TitleSource
    kind: str  # page | blogpost (front matter "type")
    page_id: str | None  # front matter "page_id", if the file names its page
    text: str | None  # the file's text, once read
    order: int | None = None  # front matter "order", the page's place among its siblings


def title_of(text: str, doc: LocalDoc) -> FileInfo:
    """A file's title and where it came from: front matter, else its opening (or first) H1,
    else its folder's name for an index file, else its file name. Broken front matter raises
    FrontMatterError."""
    from mdsync.convert.frontmatter import split_front_matter
    from mdsync.convert.to_storage import first_heading

    front, body = split_front_matter(text)
    if front.title:
        return FileInfo(front.title, TitleSource.FRONT_MATTER, front.type, front.page_id, text, front.order)
    heading, first = first_heading(body)
    if heading:
        # An opening H1 is the title and leaves the body; a later one stays in it.
        source = TitleSource.HEADING if first else TitleSource.HEADING_KEPT
        return FileInfo(heading, source, front.type, front.page_id, text, front.order)
    if doc.folder is not None:
        return FileInfo(posixpath.basename(doc.folder), TitleSource.FOLDER, front.type, front.page_id, text, front.order)
    return FileInfo(posixpath.splitext(posixpath.basename(doc.path))[0] or "Untitled", TitleSource.FILENAME,
                    front.type, front.page_id, text, front.order)


def folder_title(doc: LocalDoc) -> str:
    """The title of a folder's page that has no file: the folder's name."""
    return posixpath.basename(doc.path.rstrip("/"))


def same_titles(titles: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Paths that share a title (ignoring case and surrounding space), in order: what
    Confluence, with one page per title in a space, refuses."""
    groups: dict[str, list[str]] = {}
    for path, title in titles:
        groups.setdefault(title.strip().lower(), []).append(path)
    return [paths for paths in groups.values() if len(paths) > 1]


def heading_anchors(markdown: str) -> dict[str, str]:
    """GitHub slug -> Confluence anchor for each heading of a Markdown text."""
    from mdsync.convert.markdown_parser import make_parser
    from mdsync.convert.to_storage import anchors_of

    return anchors_of(make_parser().parse(markdown))


# -- links ----------------------------------------------------------------------------------


class Links:
    """Where the relative links and images of a docs folder's files point.

    ``title`` gives a page's title by its path and ``text`` a file's text; the sync answers
    from what it has read and knows, ``check`` and ``convert`` from the files.
    """

    def __init__(self, root: Path, docs: Mapping[str, LocalDoc], title: Callable[[str], str],
                 text: Callable[[str], str], reach: Reach | None = None) -> None:
        self.root = root
        self.docs = docs
        self.title = title
        self.text = text
        self.reach = reach  # None: files are attached from the docs folder only (``mdsync convert``)
        self._folders = {doc.folder: doc for doc in docs.values() if doc.folder is not None}
        self._anchors: dict[str, dict[str, str]] = {}

    def link(self, target: str, fragment: str | None) -> LinkTarget | None:
        from mdsync.convert.to_storage import LinkTarget

        doc = self.docs.get(target) or self._folders.get(target.rstrip("/"))
        if doc is not None and doc.refused is None:
            anchor, missing = fragment, False
            try:
                if fragment and doc.has_file:
                    anchors = self.anchors(doc.path)
                    anchor, missing = anchors.get(fragment.lower(), fragment), fragment.lower() not in anchors
                return LinkTarget("page", title=self.title(doc.path), anchor=anchor, anchor_missing=missing)
            except MdsyncError:
                return None  # a file that cannot be read is no target (it gets its own report)
        return None if target.lower().endswith(".md") else self.file(target)

    def image(self, target: str) -> LinkTarget | None:
        return self.file(target)

    def file(self, target: str) -> LinkTarget | None:
        """A file to attach (``target`` relative to the docs root, ``..`` for one outside it), as
        far as the reach allows: kind "outside" for one outside the repository; None for one that
        is missing, or outside the docs folder and not shared through ``include_outside``."""
        from mdsync.convert.to_storage import LinkTarget

        file = self.root / target
        leaves = target == ".." or target.startswith("../")
        if self.reach is None:
            allowed = not leaves and inside(self.root, file)
        elif not self.reach.allows(file):
            return LinkTarget("outside", path=target)
        else:
            allowed = not leaves or self.reach.shares(file)
        return LinkTarget("attachment", path=target) if allowed and file.is_file() else None

    def anchors(self, path: str) -> dict[str, str]:
        """GitHub slug -> Confluence anchor for the headings of a page's file (read once)."""
        if path not in self._anchors:
            from mdsync.convert.frontmatter import split_front_matter

            self._anchors[path] = heading_anchors(split_front_matter(self.text(path))[1])
        return self._anchors[path]


def folder_links(root: Path, docs: Mapping[str, LocalDoc], reach: Reach | None = None) -> Links:
    """Links answered from the files themselves (``check``, ``convert``)."""
    def text(path: str) -> str:
        return read_markdown(root / path, path, reach)

    def title(path: str) -> str:
        doc = docs[path]
        return folder_title(doc) if not doc.has_file else title_of(text(path), doc).title

    return Links(root, docs, title, text, reach)
