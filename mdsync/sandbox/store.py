"""SQLite persistence and Confluence's rules for the sandbox.

The store knows nothing about HTTP: it keeps spaces, pages, folders, blog posts, versions, content
properties, labels, attachments, footer and inline comments and content states, enforces the rules Confluence
enforces (unique titles, version + 1, trash before purge, well-formed storage), and raises
:class:`ApiError` with Confluence's own wording when a rule is broken. ``app.py`` turns
rows into JSON and errors into Confluence's error envelopes.
"""

from __future__ import annotations

import json
import mimetypes
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from lxml import etree

from mdsync.sandbox.entities import NamedEntities, parse_keeping_entities, serialize_keeping_entities
from mdsync.sandbox.inline import SelectionError, mark_selection
from mdsync.storage.xhtml import AC, RI, StorageParseError

PAGE = "page"
BLOGPOST = "blogpost"
FOLDER = "folder"
ATTACHMENT = "attachment"  # attachments hold content properties too
# The kinds that make up a space's content tree (blog posts stand outside it).
TREE_KINDS = (PAGE, FOLDER)
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
ACCOUNT_ID = "557058:5a4d5b1e-0000-4000-8000-5a4db0c5a4d5"

# Confluence refuses these in label names; whitespace separates labels in its editor.
_LABEL_FORBIDDEN = set("!#&()*,.:;<>?@[]^") | {" ", "\t", "\n", "\r"}
_SPACE_KEY = re.compile(r"^~?[A-Za-z0-9_]{1,255}$")
# markfluence storage-format.md (2026-08): Confluence stores this style as style="".
_START_ALIGNMENT = re.compile(r"\s*text-align\s*:\s*start\s*;?\s*", re.IGNORECASE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spaces(
  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL,
  type TEXT NOT NULL, status TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  homepage_id INTEGER, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS content(
  id INTEGER PRIMARY KEY, type TEXT NOT NULL, space_id INTEGER NOT NULL, status TEXT NOT NULL,
  title TEXT NOT NULL, parent_id INTEGER, position INTEGER, version INTEGER NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS content_space ON content(space_id, type, status);
CREATE INDEX IF NOT EXISTS content_listing ON content(space_id, type, id);  -- cursor listings in id order
CREATE INDEX IF NOT EXISTS content_title ON content(space_id, type, title COLLATE NOCASE);  -- the title rule
CREATE INDEX IF NOT EXISTS content_parent ON content(parent_id);
CREATE TABLE IF NOT EXISTS versions(
  content_id INTEGER NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '', minor_edit INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
  PRIMARY KEY(content_id, number));
CREATE TABLE IF NOT EXISTS properties(
  id INTEGER PRIMARY KEY, content_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  version INTEGER NOT NULL, message TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
  UNIQUE(content_id, key));
CREATE TABLE IF NOT EXISTS labels(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL, UNIQUE(name, prefix));
CREATE TABLE IF NOT EXISTS content_labels(
  content_id INTEGER NOT NULL, label_id INTEGER NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY(content_id, label_id));
CREATE TABLE IF NOT EXISTS attachments(
  id INTEGER PRIMARY KEY, content_id INTEGER NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
  version INTEGER NOT NULL, file_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attachment_content ON attachments(content_id);
CREATE TABLE IF NOT EXISTS attachment_versions(
  attachment_id INTEGER NOT NULL, number INTEGER NOT NULL, data BLOB NOT NULL,
  media_type TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', minor_edit INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, PRIMARY KEY(attachment_id, number));
CREATE TABLE IF NOT EXISTS comments(
  id INTEGER PRIMARY KEY, content_id INTEGER NOT NULL, parent_comment_id INTEGER,
  status TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inline_comments(
  id INTEGER PRIMARY KEY, content_id INTEGER NOT NULL, parent_comment_id INTEGER,
  status TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,
  resolution_status TEXT NOT NULL, marker_ref TEXT, selection TEXT);
CREATE TABLE IF NOT EXISTS custom_states(id INTEGER PRIMARY KEY, name TEXT NOT NULL, color TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS content_states(
  content_id INTEGER PRIMARY KEY, state_id INTEGER, last_updated TEXT NOT NULL);
"""

# The page statuses ("content states") a space offers out of the box, ids 0 to 3 as Cloud
# numbers them before a space has its own (markfluence page-status.md, 2026-09). Only
# "Ready for review"'s colour is recorded; the others are the v1 document's default colours.
SPACE_STATES = ((0, "Rough draft", "#ffc400"), (1, "In progress", "#2684ff"), (2, "Ready for review", "#57d9a3"),
                (3, "Verified", "#8777d9"))
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ApiError(Exception):
    """A refusal with the status, code and title Confluence would answer with."""

    def __init__(self, status: int, title: str, code: str | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.code = code or _DEFAULT_CODES.get(status, "ERROR")


_DEFAULT_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "REQUEST_ENTITY_TOO_LARGE",
}


def now() -> str:
    """A timestamp in Confluence's format: 2026-02-12T23:00:00.000Z."""
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Space:
    id: int
    key: str
    name: str
    type: str
    status: str
    description: str
    homepage_id: int | None
    created_at: str


@dataclass(frozen=True)
class Content:
    """A page, blog post or folder at one version (the current one unless asked otherwise)."""

    id: int
    type: str
    space_id: int
    status: str
    title: str
    parent_id: int | None
    position: int | None
    version: int
    created_at: str
    body: str
    version_message: str
    version_minor: bool
    version_created_at: str
    parent_type: str | None = None  # the parent's kind, page or folder, as Cloud's parentType says


SortKey = tuple[Any, int]  # a row's sort value and id: where a cursor listing goes on from

# The content listing's sorts; a NULL position sorts as -1 so keys compare (NULL never does).
_SORT_COLUMNS = {
    "id": "c.id", "created-date": "c.created_at", "modified-date": "v.created_at",
    "title": "c.title COLLATE NOCASE", "child-position": "COALESCE(c.position, -1)",
}


@dataclass(frozen=True)
class Property:
    id: int
    content_id: int
    key: str
    value: Any
    version: int
    message: str
    created_at: str


@dataclass(frozen=True)
class Label:
    id: int
    name: str
    prefix: str


@dataclass(frozen=True)
class Attachment:
    id: int
    content_id: int
    title: str
    status: str
    version: int
    file_id: str
    created_at: str
    media_type: str
    file_size: int
    comment: str
    minor_edit: bool
    version_created_at: str


@dataclass(frozen=True)
class Comment:
    id: int
    content_id: int
    parent_comment_id: int | None
    status: str
    version: int
    body: str
    created_at: str


@dataclass(frozen=True)
class InlineComment(Comment):
    """A comment on a piece of the page's text, which its storage marks with ``marker_ref``."""

    resolution_status: str
    marker_ref: str | None
    selection: str | None


@dataclass(frozen=True)
class TextSelection:
    """Which text an inline comment is on: the ``index``-th of ``count`` occurrences."""

    text: str
    count: int
    index: int


@dataclass(frozen=True)
class ContentState:
    id: int
    name: str
    color: str


@dataclass(frozen=True)
class StateOfContent:
    """A page's content state (None once removed, or never set) and when it last changed."""

    state: ContentState | None
    last_updated: str | None


def validate_storage(body: str, *, attachment_version: Callable[[str], int | None] | None = None) -> str:
    """Check storage as Confluence does and return it as Confluence would store it.

    Confluence re-serialises what it stores, and sync tools must cope with that, so the
    sandbox does it too: macros gain ``ac:schema-version`` and an ``ac:macro-id``,
    ``ri:attachment`` and ``ri:page`` gain ``ri:version-at-save``, a lone ``text-align:
    start`` style becomes ``style=""``, ``panelIconId`` moves before ``panelIcon``,
    self-closing tags gain a space, numeric character references come back as characters
    and HTML named entities stay named. ``attachment_version`` gives the current version of
    an attachment of the page by file name (None when the page has no such attachment).
    """
    try:
        root, entities = parse_keeping_entities(body)
    except StorageParseError as error:
        raise storage_refusal(error) from None
    for macro in root.iter(f"{{{AC}}}structured-macro"):
        if macro.get(f"{{{AC}}}schema-version") is None:
            macro.set(f"{{{AC}}}schema-version", "1")
        if macro.get(f"{{{AC}}}macro-id") is None:
            macro.set(f"{{{AC}}}macro-id", str(uuid.uuid4()))
        _panel_icon_id_first(macro)
    _add_versions_at_save(root, entities, attachment_version or (lambda filename: None))
    _empty_start_alignment(root)
    return serialize_keeping_entities(root, entities)


def storage_refusal(error: StorageParseError) -> ApiError:
    """Confluence's 400 for storage that does not parse."""
    where = f" at [row,col]: [{error.line},{error.column}]" if error.line else ""
    return ApiError(400, f"Error parsing xhtml: {error.message}{where}")


def _panel_icon_id_first(macro: etree._Element) -> None:
    """Confluence hands ``panelIconId`` back before ``panelIcon`` (md2conf commit 7a7ff30)."""
    parameters = {child.get(f"{{{AC}}}name"): child for child in macro if child.tag == f"{{{AC}}}parameter"}
    icon, icon_id = parameters.get("panelIcon"), parameters.get("panelIconId")
    if icon is not None and icon_id is not None and macro.index(icon_id) > macro.index(icon):
        icon.addprevious(icon_id)


def _add_versions_at_save(root: etree._Element, entities: NamedEntities,
                          attachment_version: Callable[[str], int | None]) -> None:
    version_at_save = f"{{{RI}}}version-at-save"
    for page in root.iter(f"{{{RI}}}page"):
        if page.get(version_at_save) is None:
            page.set(version_at_save, "1")
    for attachment in root.iter(f"{{{RI}}}attachment"):
        if attachment.get(version_at_save) is not None:
            continue
        version = None
        # An attachment with an owner (a nested ri:page) lives on another page.
        if len(attachment) == 0:
            version = attachment_version(entities.characters(attachment.get(f"{{{RI}}}filename", "")))
        attachment.set(version_at_save, str(version or 1))


def _empty_start_alignment(root: etree._Element) -> None:
    for element in root.iter(etree.Element):
        style = element.get("style")
        if style is not None and _START_ALIGNMENT.fullmatch(style):
            element.set("style", "")


def normalize_label(name: str) -> str:
    """Confluence keeps labels lower-case and refuses separators and punctuation in them."""
    cleaned = name.strip().lower()
    if not cleaned:
        raise ApiError(400, "Label name must not be empty")
    if len(cleaned) > 255:
        raise ApiError(400, f"Label '{cleaned[:40]}…' is longer than 255 characters")
    bad = sorted(set(cleaned) & _LABEL_FORBIDDEN)
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        raise ApiError(400, f"Label '{cleaned}' contains characters that are not allowed: {shown}")
    return cleaned


class Store:
    """All sandbox data behind one SQLite connection (a file, or memory)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(_SCHEMA)
        with self.transaction():
            if self._meta("next_id") is None:
                self._set_meta("next_id", "65537")
                self._set_meta("cloud_id", str(uuid.uuid4()))
                self._set_meta("connection_id", str(uuid.uuid4()))
            if self._meta("created_at") is None:
                self._set_meta("created_at", now())

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls join the outer one."""
        with self._lock:
            if self._db.in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _new_id(self) -> int:
        """Confluence numbers all content from one sequence; so does the sandbox."""
        value = int(self._meta("next_id") or "65537")
        self._set_meta("next_id", str(value + 1))
        return value

    @property
    def cloud_id(self) -> str:
        return self._meta("cloud_id") or ""

    @property
    def created_at(self) -> str:
        """When the sandbox's site was made (its user's join date, for one)."""
        return self._meta("created_at") or now()

    @property
    def connection_id(self) -> str:
        return self._meta("connection_id") or ""

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- spaces ---------------------------------------------------------------------------

    def create_space(self, key: str, name: str | None = None, description: str = "") -> Space:
        if not _SPACE_KEY.match(key or ""):
            raise ApiError(400, f"Space key '{key}' is not valid: use letters, digits and underscores only")
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM spaces WHERE key = ?", (key,)).fetchone():
                raise ApiError(400, f"A space with key '{key}' already exists")
            space_id = self._new_id()
            created = now()
            name = name or key
            db.execute(
                "INSERT INTO spaces(id, key, name, type, status, description, created_at)"
                " VALUES (?, ?, ?, 'global', 'current', ?, ?)",
                (space_id, key, name, description, created),
            )
            home = self._insert_content(PAGE, space_id, f"{name} Home", None, "", "current")
            db.execute("UPDATE spaces SET homepage_id = ? WHERE id = ?", (home, space_id))
        return self.space(space_id)

    def ensure_space(self, key: str) -> Space:
        found = self.space_by_key(key)
        return found if found else self.create_space(key)

    def _space_row(self, row: sqlite3.Row) -> Space:
        return Space(**{field: row[field] for field in Space.__dataclass_fields__})

    def space(self, space_id: int) -> Space:
        rows = self._query("SELECT * FROM spaces WHERE id = ?", (space_id,))
        if not rows:
            raise ApiError(404, f"Cannot find space with id [{space_id}]")
        return self._space_row(rows[0])

    def space_by_key(self, key: str) -> Space | None:
        rows = self._query("SELECT * FROM spaces WHERE key = ?", (key,))
        return self._space_row(rows[0]) if rows else None

    def spaces(self, *, ids: list[int] | None = None, keys: list[str] | None = None,
               status: str | None = None, type: str | None = None, sort: str = "id") -> list[Space]:
        sql, params = "SELECT * FROM spaces WHERE 1=1", []
        if ids is not None:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            params += ids
        if keys is not None:
            sql += f" AND key IN ({','.join('?' * len(keys))})"
            params += keys
        if status:
            sql += " AND status = ?"
            params.append(status)
        if type:
            sql += " AND type = ?"
            params.append(type)
        column = {"id": "id", "key": "key", "name": "name"}[sort.lstrip("-")]
        sql += f" ORDER BY {column} {'DESC' if sort.startswith('-') else 'ASC'}"
        return [self._space_row(row) for row in self._query(sql, tuple(params))]

    # -- pages and blog posts -------------------------------------------------------------

    def _insert_content(self, kind: str, space_id: int, title: str, parent_id: int | None,
                        body: str, status: str, message: str = "") -> int:
        content_id = self._new_id()
        created = now()
        position = None
        if parent_id is not None:
            row = self._db.execute(
                "SELECT COALESCE(MAX(position), 0) AS top FROM content WHERE parent_id = ?", (parent_id,)
            ).fetchone()
            position = row["top"] + 1
        self._db.execute(
            "INSERT INTO content(id, type, space_id, status, title, parent_id, position, version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
            (content_id, kind, space_id, status, title, parent_id, position, created),
        )
        self._db.execute(
            "INSERT INTO versions(content_id, number, title, body, message, created_at) VALUES (?, 1, ?, ?, ?, ?)",
            (content_id, title, body, message, created),
        )
        return content_id

    def _check_title_free(self, kind: str, space_id: int, title: str, except_id: int | None = None,
                          created_at: str | None = None) -> None:
        """Titles are unique per space and kind: a folder's title never blocks a page's.

        Pages clash with current and archived pages (an archived page keeps its title; a
        trashed one frees it), folders with current folders, and blog posts only with blog
        posts of the same day, as in Confluence.
        """
        statuses = "('current')" if kind == FOLDER else "('current', 'archived')"
        sql = ("SELECT id FROM content WHERE space_id = ? AND type = ? AND title = ? COLLATE NOCASE"
               f" AND status IN {statuses} AND id IS NOT ?")
        params: list[Any] = [space_id, kind, title, except_id]
        if kind == BLOGPOST:
            sql += " AND substr(created_at, 1, 10) = ?"
            params.append((created_at or now())[:10])
        if self._db.execute(sql, tuple(params)).fetchone():
            if kind == PAGE:
                raise ApiError(400, "A page with this title already exists: A page already exists with the "
                                    "same TITLE in this space")
            if kind == FOLDER:
                raise ApiError(400, "A folder exists with the same title in this space")
            raise ApiError(400, "A blog post with this title already exists for this day in this space")

    def _content_row(self, row: sqlite3.Row) -> Content:
        return Content(
            id=row["id"], type=row["type"], space_id=row["space_id"], status=row["status"],
            title=row["v_title"], parent_id=row["parent_id"], position=row["position"],
            version=row["number"], created_at=row["created_at"], body=row["body"],
            version_message=row["message"], version_minor=bool(row["minor_edit"]),
            version_created_at=row["v_created"], parent_type=row["parent_type"],
        )

    _CONTENT_SELECT = (
        "SELECT c.*, v.number, v.title AS v_title, v.body, v.message, v.minor_edit,"
        " v.created_at AS v_created, p.type AS parent_type FROM content c JOIN versions v"
        " ON v.content_id = c.id AND v.number = {version} LEFT JOIN content p ON p.id = c.parent_id"
    )

    def content(self, content_id: int, kind: str | None = None, *, version: int | None = None) -> Content:
        """One page, blog post or folder, at its current version or the given one.

        Asked for one kind, another kind's id is not found: Cloud's page routes answer 404
        for a folder's id and its folder routes for a page's.
        """
        select = self._CONTENT_SELECT.format(version="?" if version else "c.version")
        params: tuple[Any, ...] = (version, content_id) if version else (content_id,)
        rows = self._query(select + " WHERE c.id = ?", params)
        if not rows or (kind and rows[0]["type"] != kind) or rows[0]["status"] == "deleted":
            if kind == FOLDER:
                raise ApiError(404, f"Content with id: [{content_id}] not found")
            label = "blog post" if kind == BLOGPOST else "page"
            if version and self._query("SELECT 1 FROM content WHERE id = ?", (content_id,)):
                raise ApiError(404, f"Cannot find version [{version}] of {label} with id [{content_id}]")
            raise ApiError(404, f"Cannot find a {label} with id [{content_id}]")
        found = self._content_row(rows[0])
        if version and version != rows[0]["version"]:
            found = replace(found, status="historical")
        return found

    def contents(self, kind: str | tuple[str, ...], *, ids: list[int] | None = None, space_ids: list[int] | None = None,
                 statuses: list[str] | None = None, title: str | None = None, parent_id: int | None = None,
                 root_only: bool = False, sort: str = "id") -> list[Content]:
        return self.contents_page(kind, ids=ids, space_ids=space_ids, statuses=statuses, title=title,
                                  parent_id=parent_id, root_only=root_only, sort=sort)[0]

    def contents_page(self, kind: str | tuple[str, ...], *, ids: list[int] | None = None, space_ids: list[int] | None = None,
                      statuses: list[str] | None = None, title: str | None = None, parent_id: int | None = None,
                      root_only: bool = False, sort: str = "id", after: SortKey | None = None,
                      limit: int | None = None) -> tuple[list[Content], SortKey | None]:
        """Contents in ``sort`` order: those after the key ``after``, at most ``limit`` of them,
        and the key to continue from (None at the end).

        A cursor that holds a key reads only the rows it returns, however large the space, and
        neither skips nor repeats a row when rows before it are added or removed meanwhile.
        ``kind`` is one kind or several (the tree's pages and folders).
        """
        kinds = (kind,) if isinstance(kind, str) else kind
        sql = self._CONTENT_SELECT.format(version="c.version") + f" WHERE c.type IN ({','.join('?' * len(kinds))})"
        params: list[Any] = list(kinds)
        if ids is not None:
            sql += f" AND c.id IN ({','.join('?' * len(ids))})"
            params += ids
        if space_ids is not None:
            sql += f" AND c.space_id IN ({','.join('?' * len(space_ids))})"
            params += space_ids
        statuses = statuses or ["current", "archived"]
        sql += f" AND c.status IN ({','.join('?' * len(statuses))})"
        params += statuses
        if title is not None:
            sql += " AND c.title = ? COLLATE NOCASE"
            params.append(title)
        if parent_id is not None:
            sql += " AND c.parent_id = ?"
            params.append(parent_id)
        if root_only:
            sql += " AND c.parent_id IS NULL"
        column = _SORT_COLUMNS.get(sort.lstrip("-"), "c.id")
        direction = "DESC" if sort.startswith("-") else "ASC"
        sort_value = column.replace(" COLLATE NOCASE", "")
        if after is not None:
            sql += f" AND ({column}, c.id) {'<' if direction == 'DESC' else '>'} (?, ?)"
            params += [after[0], after[1]]
        sql += f" ORDER BY {column} {direction}, c.id {direction}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit + 1)  # one more says whether there is a next page
        sql = sql.replace("SELECT c.*,", f"SELECT c.*, {sort_value} AS sort_value,", 1)
        rows = self._query(sql, tuple(params))
        if limit is None or len(rows) <= limit:
            return [self._content_row(row) for row in rows], None
        last = rows[limit - 1]
        return [self._content_row(row) for row in rows[:limit]], (last["sort_value"], last["id"])

    def create_content(self, kind: str, *, space_id: int, title: str | None, body: str,
                       parent_id: int | None = None, root_level: bool = False,
                       status: str = "current") -> Content:
        space = self.space(space_id)
        if status not in ("current", "draft"):
            raise ApiError(400, f"Cannot create content with status '{status}'")
        if status == "current" and not (title or "").strip():
            raise ApiError(400, "Title is required for a page that is not a draft")
        title = (title or "").strip() if title is not None else ""
        _check_title_length(title)
        stored_body = validate_storage(body)
        with self.transaction():
            if kind == PAGE:
                if root_level and parent_id is not None:
                    raise ApiError(400, "parentId may not be given when root-level is true")
                if parent_id is None and not root_level:
                    parent_id = space.homepage_id
                if parent_id is not None:
                    self._check_parent(parent_id, space_id)
            else:
                parent_id = None
            if status == "current":
                self._check_title_free(kind, space_id, title)
            new_id = self._insert_content(kind, space_id, title, parent_id, stored_body, status)
        return self.content(new_id)

    def create_folder(self, *, space_id: int, title: str | None, parent_id: int | None = None) -> Content:
        """A folder: under a page, under a folder, or (no parent given) at the space's root."""
        self.space(space_id)
        title = (title or "").strip()
        if not title:
            raise ApiError(400, "A folder needs a title")
        _check_title_length(title)
        with self.transaction():
            if parent_id is not None:
                self._check_parent(parent_id, space_id)
            self._check_title_free(FOLDER, space_id, title)
            new_id = self._insert_content(FOLDER, space_id, title, parent_id, "", "current")
        return self.content(new_id)

    def _check_parent(self, parent_id: int, space_id: int) -> None:
        """A page or folder of the space may hold pages and folders."""
        rows = self._db.execute(
            "SELECT space_id, status, type FROM content WHERE id = ?", (parent_id,)
        ).fetchall()
        if not rows or rows[0]["status"] not in ("current", "archived") or rows[0]["type"] not in TREE_KINDS:
            raise ApiError(404, "The parent ID specified does not exist, or user does not have permissions")
        if rows[0]["space_id"] != space_id:
            raise ApiError(400, "The parent page must be in the same space")

    def _is_descendant(self, candidate: int, ancestor: int) -> bool:
        current: int | None = candidate
        seen = set()
        while current is not None and current not in seen:
            if current == ancestor:
                return True
            seen.add(current)
            row = self._db.execute("SELECT parent_id FROM content WHERE id = ?", (current,)).fetchone()
            current = row["parent_id"] if row else None
        return False

    def update_content(self, kind: str, content_id: int, *, title: str, body: str, status: str,
                       version: int | None, message: str = "", minor_edit: bool = False,
                       parent_id: int | None = None, space_id: int | None = None) -> Content:
        with self.transaction() as db:
            existing = self.content(content_id, kind)
            if status not in ("current", "draft"):
                raise ApiError(400, f"Cannot update content to status '{status}'")
            if space_id is not None and space_id != existing.space_id:
                raise ApiError(400, "Moving a page to a different space is not supported")
            if existing.status in ("trashed", "deleted") and status == "current":
                # Restoring: Confluence changes only the status, never the content.
                self._check_title_free(kind, existing.space_id, existing.title, existing.id, existing.created_at)
                db.execute("UPDATE content SET status = 'current' WHERE id = ?", (content_id,))
                return self.content(content_id)
            if version is None:
                raise ApiError(400, "version.number is required")
            if existing.status == "draft" and status == "current":
                expected = existing.version
            else:
                expected = existing.version + 1
            if version != expected and not (existing.status == "draft" and version == existing.version + 1):
                raise ApiError(
                    409,
                    "Version must be incremented when updating a page. "
                    f"Current Version: [{existing.version}]. Provided version: [{version}]",
                )
            title = (title or "").strip()
            if status == "current" and not title:
                raise ApiError(400, "Title is required for a page that is not a draft")
            _check_title_length(title)
            stored_body = validate_storage(
                body, attachment_version=lambda filename: self._attachment_version(content_id, filename))
            if status == "current" and title.lower() != existing.title.lower() or existing.status == "draft":
                self._check_title_free(kind, existing.space_id, title, existing.id, existing.created_at)
            new_parent = existing.parent_id
            if kind == PAGE and parent_id is not None and parent_id != existing.parent_id:
                self._check_parent(parent_id, existing.space_id)
                if self._is_descendant(parent_id, content_id):
                    raise ApiError(400, "A page cannot be moved under itself or one of its descendants")
                new_parent = parent_id
            if existing.status == "draft" and status == "current" and version == existing.version:
                db.execute(
                    "UPDATE versions SET title = ?, body = ?, message = ?, created_at = ? "
                    "WHERE content_id = ? AND number = ?",
                    (title, stored_body, message, now(), content_id, version),
                )
                db.execute("UPDATE content SET status = 'current', title = ?, parent_id = ? WHERE id = ?",
                           (title, new_parent, content_id))
                return self.content(content_id)
            position = existing.position
            if new_parent != existing.parent_id:
                row = db.execute("SELECT COALESCE(MAX(position), 0) AS top FROM content WHERE parent_id = ?",
                                 (new_parent,)).fetchone()
                position = row["top"] + 1
            db.execute(
                "INSERT INTO versions(content_id, number, title, body, message, minor_edit, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (content_id, version, title, stored_body, message, int(minor_edit), now()),
            )
            db.execute(
                "UPDATE content SET title = ?, version = ?, status = ?, parent_id = ?, position = ? WHERE id = ?",
                (title, version, status, new_parent, position, content_id),
            )
        return self.content(content_id)

    def move_page(self, page_id: int, position: str, target_id: int) -> Content:
        """v1's move: ``append`` puts the page last under the target (a page or a folder);
        ``before`` and ``after`` put it beside the target, under the target's parent. Sibling
        positions are renumbered; no new version is made."""
        if position not in ("before", "after", "append"):
            raise ApiError(400, f"Position must be before, after or append, not '{position}'")
        with self.transaction() as db:
            page = self.content(page_id, PAGE)
            target = self._movable(target_id)
            if page.status != "current" or target.status != "current":
                raise ApiError(404, "The page or the target does not exist, or is not current")
            if target.space_id != page.space_id:
                raise ApiError(400, "The sandbox moves pages only within their space")
            parent = target.id if position == "append" else target.parent_id
            if parent is not None and self._is_descendant(parent, page.id):
                raise ApiError(400, "The move would create a parent-child loop: a page cannot be moved under "
                                    "itself or one of its descendants")
            siblings = [row["id"] for row in db.execute(
                "SELECT id FROM content WHERE space_id = ? AND parent_id IS ? AND id != ? AND type IN (?, ?)"
                " AND status IN ('current', 'archived') ORDER BY COALESCE(position, -1), id",
                (page.space_id, parent, page.id, *TREE_KINDS))]
            if position == "append":
                siblings.append(page.id)
            else:
                siblings.insert(siblings.index(target.id) + (position == "after"), page.id)
            db.execute("UPDATE content SET parent_id = ? WHERE id = ?", (parent, page.id))
            for number, sibling in enumerate(siblings, start=1):
                db.execute("UPDATE content SET position = ? WHERE id = ?", (number, sibling))
        return self.content(page_id)

    def _movable(self, content_id: int) -> Content:
        """A page or folder (what v1's move takes as its target)."""
        found = self.content(content_id)
        if found.type not in TREE_KINDS:
            raise ApiError(404, f"Cannot find a page or folder with id [{content_id}]")
        return found

    def rename_content(self, content_id: int, title: str, status: str = "current") -> Content:
        """PUT /pages/{id}/title: a new version with the old body and a new title."""
        existing = self.content(content_id, PAGE)
        return self.update_content(PAGE, content_id, title=title, body=existing.body, status=status,
                                   version=existing.version + 1)

    def delete_content(self, kind: str, content_id: int, *, purge: bool = False, draft: bool = False) -> None:
        with self.transaction() as db:
            existing = self.content(content_id, kind)
            if draft:
                if existing.status != "draft":
                    raise ApiError(400, f"Content with id [{content_id}] is not a draft")
                self._purge(content_id)
                return
            if purge:
                if existing.status != "trashed":
                    raise ApiError(400, "Only content in the trash can be purged; delete it first")
                self._purge(content_id)
                return
            if existing.status == "trashed":
                raise ApiError(404, f"Cannot find a {'page' if kind == PAGE else 'blog post'} with id "
                                    f"[{content_id}]")
            space = self.space(existing.space_id)
            if space.homepage_id == content_id:
                raise ApiError(400, "The space home page cannot be deleted")
            self._archive_children(content_id)
            db.execute("UPDATE content SET status = 'trashed' WHERE id = ?", (content_id,))

    def _archive_children(self, content_id: int) -> None:
        """What Cloud does to the children of a page or folder it trashes: the direct ones are
        left archived with no parent (they keep their titles); their own subtrees stay under
        them. Drafts are left as they are."""
        self._db.execute("UPDATE content SET status = 'archived', parent_id = NULL, position = NULL"
                         " WHERE parent_id = ? AND status IN ('current', 'archived')", (content_id,))

    def _purge(self, content_id: int) -> None:
        for table, column in (("versions", "content_id"), ("properties", "content_id"),
                              ("content_labels", "content_id"), ("comments", "content_id"),
                              ("inline_comments", "content_id"), ("content_states", "content_id")):
            self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (content_id,))
        for row in self._db.execute("SELECT id FROM attachments WHERE content_id = ?", (content_id,)).fetchall():
            self._db.execute("DELETE FROM attachment_versions WHERE attachment_id = ?", (row["id"],))
        self._db.execute("DELETE FROM attachments WHERE content_id = ?", (content_id,))
        self._db.execute("UPDATE content SET status = 'deleted' WHERE id = ?", (content_id,))

    def versions(self, content_id: int, kind: str | None = None) -> list[Content]:
        self.content(content_id, kind)
        return [self.content(content_id, kind, version=row["number"]) for row in
                self._query("SELECT number FROM versions WHERE content_id = ? ORDER BY number", (content_id,))]

    def children(self, content_id: int, kind: str = PAGE, kinds: tuple[str, ...] = (PAGE,)) -> list[Content]:
        """The direct children of ``kinds`` under a page or folder (``kind``), in tree order."""
        self.content(content_id, kind)
        return self.contents(kinds, parent_id=content_id, sort="child-position")

    def ancestors(self, content_id: int, kind: str = PAGE) -> list[tuple[int, str]]:
        """(id, kind) from the top of the tree down to the parent of a page or folder."""
        start = self.content(content_id, kind)
        chain: list[tuple[int, str]] = []
        current = start.parent_id if start.status not in ("trashed", "deleted") else None
        while current is not None and current not in (ancestor for ancestor, _ in chain):
            rows = self._query("SELECT parent_id, type FROM content WHERE id = ?", (current,))
            if not rows:
                break
            chain.append((current, rows[0]["type"]))
            current = rows[0]["parent_id"]
        return list(reversed(chain))

    def descendants(self, content_id: int, depth: int, kind: str = PAGE) -> list[tuple[Content, int]]:
        """Pages and folders below a page or folder, level by level, with their depth."""
        self.content(content_id, kind)
        found: list[tuple[Content, int]] = []
        level = [content_id]
        for current_depth in range(1, depth + 1):
            next_level = []
            for parent in level:
                for child in self.contents(TREE_KINDS, parent_id=parent, sort="child-position"):
                    found.append((child, current_depth))
                    next_level.append(child.id)
            level = next_level
        return found

    # -- content properties ---------------------------------------------------------------

    def _property_row(self, row: sqlite3.Row) -> Property:
        return Property(id=row["id"], content_id=row["content_id"], key=row["key"],
                        value=json.loads(row["value"]), version=row["version"], message=row["message"],
                        created_at=row["created_at"])

    def property_owner_space(self, owner_id: int, kind: str) -> int:
        """The space of what holds content properties: a page, blog post, or attachment."""
        if kind == ATTACHMENT:
            return self.content(self.attachment(owner_id).content_id).space_id
        return self.content(owner_id, kind).space_id

    def properties(self, content_id: int, kind: str, key: str | None = None) -> list[Property]:
        self.property_owner_space(content_id, kind)
        sql, params = "SELECT * FROM properties WHERE content_id = ?", [content_id]
        if key is not None:
            sql += " AND key = ?"
            params.append(key)
        return [self._property_row(row) for row in self._query(sql + " ORDER BY key", tuple(params))]

    def property(self, content_id: int, kind: str, property_id: int) -> Property:
        self.property_owner_space(content_id, kind)
        rows = self._query("SELECT * FROM properties WHERE id = ? AND content_id = ?", (property_id, content_id))
        if not rows:
            raise ApiError(404, f"Cannot find content property with id [{property_id}]")
        return self._property_row(rows[0])

    def create_property(self, content_id: int, kind: str, key: str, value: Any) -> Property:
        _check_property_key(key)
        with self.transaction() as db:
            self.property_owner_space(content_id, kind)
            if db.execute("SELECT 1 FROM properties WHERE content_id = ? AND key = ?", (content_id, key)).fetchone():
                raise ApiError(409, f"A content property with key '{key}' already exists on content [{content_id}]")
            property_id = self._new_id()
            db.execute(
                "INSERT INTO properties(id, content_id, key, value, version, created_at) VALUES (?, ?, ?, ?, 1, ?)",
                (property_id, content_id, key, _encode_property(value), now()),
            )
        return self.property(content_id, kind, property_id)

    def update_property(self, content_id: int, kind: str, property_id: int, key: str, value: Any,
                        version: int | None, message: str = "") -> Property:
        with self.transaction() as db:
            existing = self.property(content_id, kind, property_id)
            if key != existing.key:
                raise ApiError(400, "The key of a content property cannot be changed")
            if version != existing.version + 1:
                raise ApiError(409, "Version must be incremented when updating a content property. "
                                    f"Current Version: [{existing.version}]. Provided version: [{version}]")
            db.execute("UPDATE properties SET value = ?, version = ?, message = ?, created_at = ? WHERE id = ?",
                       (_encode_property(value), version, message, now(), property_id))
        return self.property(content_id, kind, property_id)

    def delete_property(self, content_id: int, kind: str, property_id: int) -> None:
        with self.transaction() as db:
            self.property(content_id, kind, property_id)
            db.execute("DELETE FROM properties WHERE id = ?", (property_id,))

    # -- labels ---------------------------------------------------------------------------

    def labels(self, content_id: int, kind: str | None = None, prefix: str | None = None) -> list[Label]:
        self.content(content_id, kind)
        sql = ("SELECT l.* FROM labels l JOIN content_labels cl ON cl.label_id = l.id "
               "WHERE cl.content_id = ?")
        params: list[Any] = [content_id]
        if prefix:
            sql += " AND l.prefix = ?"
            params.append(prefix)
        return [Label(row["id"], row["name"], row["prefix"]) for row in self._query(sql + " ORDER BY l.id", tuple(params))]

    def add_labels(self, content_id: int, labels: list[tuple[str, str]]) -> list[Label]:
        with self.transaction() as db:
            self.content(content_id)
            for prefix, name in labels:
                if prefix not in ("global", "my", "team"):
                    raise ApiError(400, f"Label prefix '{prefix}' is not valid: use global, my or team")
                name = normalize_label(name)
                row = db.execute("SELECT id FROM labels WHERE name = ? AND prefix = ?", (name, prefix)).fetchone()
                label_id = row["id"] if row else self._new_id()
                if not row:
                    db.execute("INSERT INTO labels(id, name, prefix) VALUES (?, ?, ?)", (label_id, name, prefix))
                db.execute("INSERT OR IGNORE INTO content_labels(content_id, label_id, created_at) VALUES (?, ?, ?)",
                           (content_id, label_id, now()))
        return self.labels(content_id)

    def remove_label(self, content_id: int, name: str) -> None:
        with self.transaction() as db:
            self.content(content_id)
            gone = db.execute(
                "DELETE FROM content_labels WHERE content_id = ? AND label_id IN "
                "(SELECT id FROM labels WHERE name = ?)", (content_id, name.strip().lower()),
            ).rowcount
            if not gone:
                raise ApiError(404, f"Label '{name}' is not on content [{content_id}]")

    # -- attachments ----------------------------------------------------------------------

    _ATTACHMENT_SELECT = (
        "SELECT a.*, v.media_type, length(v.data) AS file_size, v.comment, v.minor_edit,"
        " v.created_at AS v_created FROM attachments a JOIN attachment_versions v"
        " ON v.attachment_id = a.id AND v.number = a.version"
    )

    def _attachment_row(self, row: sqlite3.Row) -> Attachment:
        return Attachment(
            id=row["id"], content_id=row["content_id"], title=row["title"], status=row["status"],
            version=row["version"], file_id=row["file_id"], created_at=row["created_at"],
            media_type=row["media_type"], file_size=row["file_size"], comment=row["comment"],
            minor_edit=bool(row["minor_edit"]), version_created_at=row["v_created"],
        )

    def attachment(self, attachment_id: int) -> Attachment:
        rows = self._query(self._ATTACHMENT_SELECT + " WHERE a.id = ?", (attachment_id,))
        if not rows or rows[0]["status"] == "deleted":
            raise ApiError(404, f"Cannot find attachment with id [att{attachment_id}]")
        return self._attachment_row(rows[0])

    def attachments(self, content_id: int | None = None, *, kind: str | None = None, filename: str | None = None,
                    media_type: str | None = None, statuses: list[str] | None = None,
                    sort: str = "created-date") -> list[Attachment]:
        if content_id is not None:
            self.content(content_id, kind)
        sql, params = self._ATTACHMENT_SELECT + " WHERE 1=1", []
        if content_id is not None:
            sql += " AND a.content_id = ?"
            params.append(content_id)
        statuses = statuses or ["current", "archived"]
        sql += f" AND a.status IN ({','.join('?' * len(statuses))})"
        params += statuses
        if filename is not None:
            sql += " AND a.title = ?"
            params.append(filename)
        if media_type is not None:
            sql += " AND v.media_type = ?"
            params.append(media_type)
        column = "v.created_at" if sort.lstrip("-") == "modified-date" else "a.created_at"
        direction = "DESC" if sort.startswith("-") else "ASC"
        sql += f" ORDER BY {column} {direction}, a.id {direction}"
        return [self._attachment_row(row) for row in self._query(sql, tuple(params))]

    def _attachment_version(self, content_id: int, filename: str) -> int | None:
        """The current version of the page's attachment with that file name, if it has one."""
        rows = self._query("SELECT version FROM attachments WHERE content_id = ? AND title = ? AND status = 'current'",
                           (content_id, filename))
        return rows[0]["version"] if rows else None

    def attachment_data(self, attachment_id: int, version: int | None = None) -> bytes:
        attachment = self.attachment(attachment_id)
        rows = self._query("SELECT data FROM attachment_versions WHERE attachment_id = ? AND number = ?",
                           (attachment_id, version or attachment.version))
        if not rows:
            raise ApiError(404, f"Cannot find version [{version}] of attachment [att{attachment_id}]")
        return bytes(rows[0]["data"])

    def add_attachment(self, content_id: int, filename: str, data: bytes, *, media_type: str | None = None,
                       comment: str = "", minor_edit: bool = False, replace: bool = False) -> Attachment:
        """Upload a file to a page: a new attachment, or (``replace``) a new version by file name."""
        _check_attachment_name(filename)
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise ApiError(413, f"The file {filename} is larger than the {MAX_ATTACHMENT_BYTES} byte limit")
        with self.transaction() as db:
            content = self.content(content_id)
            if content.status not in ("current", "draft", "archived") or content.type == FOLDER:
                raise ApiError(404, f"Cannot find content with id [{content_id}]")
            row = db.execute("SELECT id FROM attachments WHERE content_id = ? AND title = ? AND status = 'current'",
                             (content_id, filename)).fetchone()
            if row and not replace:
                raise ApiError(400, "Cannot add a new attachment with same file name as an existing attachment: "
                                    f"{filename}")
            if row:
                return self.add_attachment_version(row["id"], data, media_type=media_type, comment=comment,
                                                   minor_edit=minor_edit)
            attachment_id = self._new_id()
            created = now()
            db.execute(
                "INSERT INTO attachments(id, content_id, title, status, version, file_id, created_at)"
                " VALUES (?, ?, ?, 'current', 1, ?, ?)",
                (attachment_id, content_id, filename, str(uuid.uuid4()), created),
            )
            db.execute(
                "INSERT INTO attachment_versions(attachment_id, number, data, media_type, comment, minor_edit,"
                " created_at) VALUES (?, 1, ?, ?, ?, ?, ?)",
                (attachment_id, data, _media_type(filename, media_type), comment, int(minor_edit), created),
            )
        return self.attachment(attachment_id)

    def add_attachment_version(self, attachment_id: int, data: bytes, *, media_type: str | None = None,
                               comment: str = "", minor_edit: bool = False, content_id: int | None = None,
                               filename: str | None = None) -> Attachment:
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise ApiError(413, f"The file is larger than the {MAX_ATTACHMENT_BYTES} byte limit")
        with self.transaction() as db:
            existing = self.attachment(attachment_id)
            if content_id is not None and existing.content_id != content_id:
                raise ApiError(404, f"Cannot find attachment [att{attachment_id}] on content [{content_id}]")
            if existing.status != "current":
                raise ApiError(400, f"Attachment [att{attachment_id}] is in the trash")
            title = existing.title
            if filename and filename != existing.title:
                _check_attachment_name(filename)
                title = filename
            version = existing.version + 1
            db.execute(
                "INSERT INTO attachment_versions(attachment_id, number, data, media_type, comment, minor_edit,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (attachment_id, version, data, _media_type(title, media_type), comment, int(minor_edit), now()),
            )
            db.execute("UPDATE attachments SET version = ?, title = ? WHERE id = ?", (version, title, attachment_id))
        return self.attachment(attachment_id)

    def update_attachment_properties(self, attachment_id: int, *, content_id: int, version: int | None,
                                     title: str | None = None, media_type: str | None = None,
                                     comment: str | None = None, move_to: int | None = None) -> Attachment:
        """v1's attachment update: a new version of the same file with another name, media type
        or comment, or on another page or blog post (``move_to``). ``version`` is current + 1."""
        with self.transaction() as db:
            existing = self.attachment(attachment_id)
            if existing.content_id != content_id:
                raise ApiError(404, f"Cannot find attachment [att{attachment_id}] on content [{content_id}]")
            if existing.status != "current":
                raise ApiError(400, f"Attachment [att{attachment_id}] is in the trash")
            if version != existing.version + 1:
                raise ApiError(409, f"Version must be incremented on update. Current version is: {existing.version}")
            owner = existing.content_id if move_to is None else move_to
            if self.content(owner).type not in (PAGE, BLOGPOST):
                raise ApiError(403, f"An attachment cannot be moved to content [{owner}]: it is not a page or blog post")
            new_title = existing.title if title is None else title
            _check_attachment_name(new_title)
            if db.execute("SELECT 1 FROM attachments WHERE content_id = ? AND title = ? AND status = 'current'"
                          " AND id != ?", (owner, new_title, attachment_id)).fetchone():
                raise ApiError(400, f"Cannot rename or move the attachment: content [{owner}] already has an "
                                    f"attachment named {new_title}")
            db.execute(
                "INSERT INTO attachment_versions(attachment_id, number, data, media_type, comment, minor_edit,"
                " created_at) SELECT attachment_id, ?, data, ?, ?, minor_edit, ? FROM attachment_versions"
                " WHERE attachment_id = ? AND number = ?",
                (version, media_type or existing.media_type, existing.comment if comment is None else comment, now(),
                 attachment_id, existing.version),
            )
            db.execute("UPDATE attachments SET version = ?, title = ?, content_id = ? WHERE id = ?",
                       (version, new_title, owner, attachment_id))
        return self.attachment(attachment_id)

    def delete_attachment(self, attachment_id: int, *, purge: bool = False) -> None:
        with self.transaction() as db:
            existing = self.attachment(attachment_id)
            if purge:
                if existing.status != "trashed":
                    raise ApiError(400, "Only an attachment in the trash can be purged; delete it first")
                db.execute("DELETE FROM attachment_versions WHERE attachment_id = ?", (attachment_id,))
                db.execute("UPDATE attachments SET status = 'deleted' WHERE id = ?", (attachment_id,))
                return
            if existing.status == "trashed":
                raise ApiError(404, f"Cannot find attachment with id [att{attachment_id}]")
            db.execute("UPDATE attachments SET status = 'trashed' WHERE id = ?", (attachment_id,))

    # -- footer comments ------------------------------------------------------------------

    def _comment_row(self, row: sqlite3.Row) -> Comment:
        return Comment(**{field: row[field] for field in Comment.__dataclass_fields__})

    def comment(self, comment_id: int) -> Comment:
        rows = self._query("SELECT * FROM comments WHERE id = ?", (comment_id,))
        if not rows:
            raise ApiError(404, f"Cannot find comment with id [{comment_id}]")
        return self._comment_row(rows[0])

    def comments(self, content_id: int, kind: str | None = None) -> list[Comment]:
        self.content(content_id, kind)
        return [self._comment_row(row) for row in
                self._query("SELECT * FROM comments WHERE content_id = ? AND status = 'current' ORDER BY id",
                            (content_id,))]

    def add_comment(self, body: str, *, content_id: int | None = None, parent_comment_id: int | None = None) -> Comment:
        stored = validate_storage(body)
        with self.transaction() as db:
            if parent_comment_id is not None:
                content_id = self.comment(parent_comment_id).content_id
            if content_id is None:
                raise ApiError(400, "A footer comment needs a pageId, blogPostId or parentCommentId")
            self.content(content_id)
            comment_id = self._new_id()
            db.execute(
                "INSERT INTO comments(id, content_id, parent_comment_id, status, version, body, created_at)"
                " VALUES (?, ?, ?, 'current', 1, ?, ?)",
                (comment_id, content_id, parent_comment_id, stored, now()),
            )
        return self.comment(comment_id)

    def update_comment(self, comment_id: int, body: str, version: int | None) -> Comment:
        stored = validate_storage(body)
        with self.transaction() as db:
            existing = self.comment(comment_id)
            if version != existing.version + 1:
                raise ApiError(409, "Version must be incremented when updating a comment. "
                                    f"Current Version: [{existing.version}]. Provided version: [{version}]")
            db.execute("UPDATE comments SET body = ?, version = ? WHERE id = ?", (stored, version, comment_id))
        return self.comment(comment_id)

    def delete_comment(self, comment_id: int) -> None:
        with self.transaction() as db:
            self.comment(comment_id)
            db.execute("DELETE FROM comments WHERE id = ? OR parent_comment_id = ?", (comment_id, comment_id))

    # -- inline comments ------------------------------------------------------------------

    def _inline_row(self, row: sqlite3.Row) -> InlineComment:
        return InlineComment(**{name: row[name] for name in InlineComment.__dataclass_fields__})

    def inline_comment(self, comment_id: int) -> InlineComment:
        rows = self._query("SELECT * FROM inline_comments WHERE id = ?", (comment_id,))
        if not rows:
            raise ApiError(404, f"Cannot find inline comment with id [{comment_id}]")
        return self._inline_row(rows[0])

    def inline_comments(self, content_id: int, kind: str, *, statuses: list[str] | None = None,
                        resolutions: list[str] | None = None) -> list[InlineComment]:
        """The root inline comments of a page or blog post (replies hang under them)."""
        self.content(content_id, kind)
        sql, params = "SELECT * FROM inline_comments WHERE content_id = ? AND parent_comment_id IS NULL", [content_id]
        for column, values in (("status", statuses or ["current"]), ("resolution_status", resolutions)):
            if values:
                sql += f" AND {column} IN ({','.join('?' * len(values))})"
                params += values
        return [self._inline_row(row) for row in self._query(sql + " ORDER BY id", tuple(params))]

    def add_inline_comment(self, body: str, *, content_id: int | None = None, parent_comment_id: int | None = None,
                           selection: TextSelection | None = None) -> InlineComment:
        """A comment on the page's text. A top-level one marks its selection in the page's
        storage in place, without a new version, as Cloud does; a reply marks nothing."""
        stored = validate_storage(body)
        with self.transaction() as db:
            if parent_comment_id is not None:
                content_id, selection = self.inline_comment(parent_comment_id).content_id, None
            elif content_id is None or selection is None:
                raise ApiError(400, "A top-level inline comment needs a pageId or blogPostId and "
                                    "inlineCommentProperties (the text to highlight)")
            owner = self.content(content_id)
            if owner.type not in (PAGE, BLOGPOST) or owner.status != "current":
                raise ApiError(404, f"Cannot find a page or blog post with id [{content_id}]")
            ref = None
            if selection is not None:
                ref = str(uuid.uuid4())
                self._mark_in_place(owner, selection, ref)
            comment_id = self._new_id()
            db.execute(
                "INSERT INTO inline_comments(id, content_id, parent_comment_id, status, version, body, created_at,"
                " resolution_status, marker_ref, selection) VALUES (?, ?, ?, 'current', 1, ?, ?, 'open', ?, ?)",
                (comment_id, content_id, parent_comment_id, stored, now(), ref,
                 selection.text if selection is not None else None),
            )
        return self.inline_comment(comment_id)

    def _mark_in_place(self, owner: Content, selection: TextSelection, ref: str) -> None:
        try:
            marked = mark_selection(owner.body, selection.text, selection.index, selection.count, ref)
        except SelectionError as error:
            raise ApiError(400, str(error)) from None
        self._db.execute("UPDATE versions SET body = ? WHERE content_id = ? AND number = ?",
                         (marked, owner.id, owner.version))

    # -- content states (the status lozenge beside a page's title) ------------------------

    def _stateful(self, content_id: int) -> Content:
        found = self.content(content_id)
        if found.type not in (PAGE, BLOGPOST) or found.status in ("trashed", "deleted"):
            raise ApiError(404, f"Cannot find content with id [{content_id}]")
        return found

    def content_state(self, content_id: int) -> StateOfContent:
        self._stateful(content_id)
        rows = self._query("SELECT state_id, last_updated FROM content_states WHERE content_id = ?", (content_id,))
        if not rows:
            return StateOfContent(None, None)
        state_id = rows[0]["state_id"]
        return StateOfContent(self._known_state(state_id) if state_id is not None else None, rows[0]["last_updated"])

    def set_content_state(self, content_id: int, *, status: str, state_id: int | None, name: str | None,
                          color: str | None) -> StateOfContent:
        """Set the page's state; on the current page that publishes a new version, same body."""
        with self.transaction() as db:
            content = self._stateful(content_id)
            state = self._known_state(state_id) if state_id is not None else self._state_by_name(name, color)
            db.execute("INSERT OR REPLACE INTO content_states(content_id, state_id, last_updated) VALUES (?, ?, ?)",
                       (content_id, state.id, now()))
            if status == "current":
                self._republish(content)
        return self.content_state(content_id)

    def remove_content_state(self, content_id: int, *, status: str) -> StateOfContent:
        """Clear the state (a new version too, when there was one); its time is kept."""
        with self.transaction() as db:
            content = self._stateful(content_id)
            if self.content_state(content_id).state is not None:
                db.execute("UPDATE content_states SET state_id = NULL, last_updated = ? WHERE content_id = ?",
                           (now(), content_id))
                if status == "current":
                    self._republish(content)
        return self.content_state(content_id)

    def _known_state(self, state_id: int) -> ContentState:
        for known_id, name, color in SPACE_STATES:
            if known_id == state_id:
                return ContentState(known_id, name, color)
        rows = self._query("SELECT * FROM custom_states WHERE id = ?", (state_id,))
        if not rows:
            raise ApiError(404, f"Content state with {state_id} id does not exist, or is disabled")
        return ContentState(rows[0]["id"], rows[0]["name"], rows[0]["color"])

    def _state_by_name(self, name: str | None, color: str | None) -> ContentState:
        """An existing state of that exact name and colour, or a new custom one, as Cloud does."""
        if not name:
            raise ApiError(400, "A content state needs an id, or a name and a color")
        if len(name) > 20:
            raise ApiError(400, "Name must be less than or exactly 20 characters")
        if not color or not _HEX_COLOR.match(color):
            raise ApiError(400, "color in body of content state must be a 6 hex digit color like #04df03!")
        known = [ContentState(*item) for item in SPACE_STATES]
        known += [ContentState(row["id"], row["name"], row["color"]) for row in self._query("SELECT * FROM custom_states")]
        for state in known:
            if state.name == name and state.color.lower() == color.lower():
                return state
        state_id = self._new_id()
        self._db.execute("INSERT INTO custom_states(id, name, color) VALUES (?, ?, ?)", (state_id, name, color.lower()))
        return ContentState(state_id, name, color.lower())

    def _republish(self, content: Content) -> None:
        """A new version with the same title and body (what a state change makes)."""
        version = content.version + 1
        self._db.execute(
            "INSERT INTO versions(content_id, number, title, body, message, minor_edit, created_at)"
            " VALUES (?, ?, ?, ?, '', 0, ?)", (content.id, version, content.title, content.body, now()))
        self._db.execute("UPDATE content SET version = ? WHERE id = ?", (version, content.id))


def _check_title_length(title: str) -> None:
    if len(title) > 255:
        raise ApiError(400, "Title cannot be longer than 255 characters")
    if any(ord(ch) < 32 for ch in title):
        raise ApiError(400, "Title cannot contain control characters")


def _check_property_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ApiError(400, "A content property needs a non-empty key")
    if len(key) > 255:
        raise ApiError(400, "Content property keys cannot be longer than 255 characters")


def _check_attachment_name(name: str) -> None:
    if not name or not name.strip():
        raise ApiError(400, "An attachment needs a file name")
    if "/" in name or "\\" in name:
        raise ApiError(400, f"Attachment names cannot contain '/' or '\\': {name}")
    if len(name) > 255:
        raise ApiError(400, "Attachment names cannot be longer than 255 characters")


def _encode_property(value: Any) -> str:
    encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(encoded.encode("utf-8")) > 32 * 1024:
        raise ApiError(413, "Content property values are limited to 32 KB of JSON")
    return encoded


def _media_type(filename: str, given: str | None) -> str:
    if given and given not in ("application/octet-stream", ""):
        return given.split(";")[0].strip()
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


__all__ = [
    "ATTACHMENT", "ApiError", "Attachment", "BLOGPOST", "Comment", "Content", "ContentState", "FOLDER",
    "InlineComment", "Label", "PAGE", "Property", "SPACE_STATES", "Space", "StateOfContent", "Store", "TREE_KINDS",
    "TextSelection", "validate_storage", "storage_refusal", "normalize_label", "now",
]
