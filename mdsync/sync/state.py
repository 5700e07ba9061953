"""The archive of the last agreed state: ``.mdsync/state.json`` and the merge bases.

For every file: its page id, title, parent id, the version last synced, the hash of the
Markdown and of the storage last synced, and its attachments. Beside it, in
``.mdsync/base/``: the Markdown last synced (the base of three-way merges), the page's
storage as last synced (``NAME.storage``) and what the file's carried regions keep
(``NAME.kept.json``). The JSON is sorted and stable
so a team can commit it for CI. Every write is atomic (temporary file, fsync, rename), and
a lock file keeps two runs apart (a lock left by a dead process is taken over).

Rewriting all of state.json after each of N actions costs O(N^2), so each finished action
is first appended to ``.mdsync/journal.jsonl`` (one fsynced line: a path and its entry,
or ``null`` once forgotten); ``save`` folds the journal into state.json and removes it.
``load`` replays a journal left by a run that was killed. Replaying is idempotent (each
line sets one path's final value), so a kill between the fold and the removal is harmless.

The copies an action writes are not fsynced one by one (three fsyncs a page were a tenth
of a big push): the journal line carries a hash of each, replaying drops a copy that does
not match (a power cut can leave one empty; a missing copy only costs a merge base or a
request), and ``save`` makes them durable before the journal that vouches for them goes.

Nothing read back is trusted: ``load`` checks the shape of the whole state (every field's
type, every entry's fields, every journal line but a torn last one) and a part that fails
raises StateError, one sentence naming it. ``opened(rebuild=True)`` (``--resync``) moves such
parts into ``broken-<UTC time>/`` instead of reading them, under the lock; a copy that is
unusable counts as missing, and one in the way of a write is moved there too.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import socket
import tempfile
import threading
import types
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Iterator,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from mdsync.errors import MdsyncError
from mdsync.sync.names import inside
from mdsync.vocabulary import ContentKind, ExitCode, TitleSource

if TYPE_CHECKING:
    from mdsync.convert.carry import Carried

STATE_VERSION = 1
SYNC_ALL_FROM = 32  # copies to make durable at a save, past which one sync(2) is cheaper


class StateError(MdsyncError):
    """A part of ``.mdsync/`` cannot be trusted. ``part`` is the file at fault: ``--resync``
    moves it aside (never deletes it) and rebuilds the state from both sides."""

    exit_code = ExitCode.FAILURE
    part: Path | None = None

    @classmethod
    def broken(cls, part: Path, name: str, problem: str) -> StateError:
        """The one sentence for a broken ``part`` (shown as ``name``): what is wrong, what to do."""
        error = cls(f"`{name}` {problem}; run `mdsync sync --resync` to rebuild it (the broken file is kept).")
        error.part = part
        return error


class Locked(MdsyncError):
    exit_code = ExitCode.FAILURE


@dataclass(frozen=True)
class AttachmentState:
    id: str
    hash: str
    version: int
    path: str  # the local file, relative to the docs root


@dataclass(frozen=True)
class FileState:
    page_id: str
    title: str
    parent_id: str | None
    version: int
    md_hash: str | None
    storage_hash: str
    kind: str = "page"
    title_source: str = "heading"  # where the title lives: front_matter | heading | filename | folder
    attachments: dict[str, AttachmentState] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # paths of the files this one links to
    order: int | None = None  # the file's front matter 'order:' as last synced
    position: int | None = None  # the page's place among its siblings in Confluence, as last agreed

    def to_json(self) -> dict[str, Any]:
        data = dict(vars(self))  # not asdict: its deep copies were a sixth of the writer thread in a push
        data["attachments"] = {name: dict(vars(attachment)) for name, attachment in self.attachments.items()}
        data["labels"] = list(self.labels)
        data["links"] = list(self.links)
        for unset in ("order", "position"):  # left out when unused: state.json stays as it was
            if data[unset] is None:
                del data[unset]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileState:
        attachments = {name: AttachmentState(**value) for name, value in (data.get("attachments") or {}).items()}
        return cls(**{**data, "attachments": attachments, "labels": tuple(data.get("labels") or ()),
                      "links": tuple(data.get("links") or ())})


# -- the shape of what is read back --------------------------------------------------------------


class Corrupt(ValueError):
    """What is wrong with something read from ``.mdsync/``, said as the rest of a sentence
    that names the file ("has ...", "is ..."); load turns it into the StateError shown."""


def check_entry_path(path: str) -> None:
    """The one place a file entry's path (a key of state.json's ``files``, a journal line's
    ``path`` or ``moved_from``) is vetted as the state is loaded: raise Corrupt to refuse it."""
    if not path:
        raise Corrupt("has a file entry with an empty path")
    if not inside(path):  # absolute, a drive, .. out of it, NUL: a pull would write there
        raise Corrupt(f"has a file entry `{path}` that leads outside the docs folder")


@dataclass(frozen=True)
class _Document:
    """state.json, as load checks it (the values are FileState's and its parts' fields)."""

    version: int
    files: dict[str, FileState] = field(default_factory=dict)
    site: dict[str, str] = field(default_factory=dict)
    outside_folders: dict[str, dict[str, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Copies:
    """The hashes a journal line keeps of the copies its action wrote."""

    base: str | None = None
    storage: str | None = None
    kept: str | None = None


@dataclass(frozen=True)
class _JournalLine:
    path: str
    entry: FileState | None
    copies: _Copies | None = None
    moved_from: str | None = None


# Fields whose strings are words of a vocabulary.
_CHOICES: dict[tuple[type, str], type[Enum]] = {(FileState, "kind"): ContentKind,
                                                (FileState, "title_source"): TitleSource}
_KINDS: dict[Any, str] = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
                          type(None): "null", list: "a list", dict: "an object"}
_Check = Callable[[Any, str], None]  # (value, where) -> None, or Corrupt


def _parse(raw: bytes, *, line: bool = False) -> Any:
    """The JSON of a file of the state (``line``: of one journal line), or Corrupt saying why not."""
    if not raw.strip():
        raise Corrupt("is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Corrupt(f"is not UTF-8 text (byte {error.start + 1})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"column {error.colno}" if line else f"line {error.lineno}, column {error.colno}"
        raise Corrupt(f"is not valid JSON ({where})") from None
    except RecursionError:
        raise Corrupt("is not valid JSON (nested too deeply)") from None


def _journal_change(line: bytes) -> dict[str, Any]:
    change = _parse(line, line=True)
    _checker(_JournalLine)(change, "")
    for path in (change["path"], change.get("moved_from")):
        if path is not None:
            check_entry_path(path)
    return change  # type: ignore[no-any-return]


def _at(where: str) -> str:
    return f"at `{where}`" if where else "at the top"


def _within(where: str, key: str) -> str:
    return f"{where} → {key}" if where else key


def _wrong(value: Any, where: str, wanted: str) -> Corrupt:
    return Corrupt(f"has {_KINDS.get(type(value), type(value).__name__)} {_at(where)} where {wanted} belongs")


@functools.cache
def _checker(hint: Any) -> _Check:
    """What checks that a JSON value has the shape of ``hint`` (a type as the dataclasses above
    declare their fields), so no field of the wrong type reaches the code that reads it."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return lambda value, where: None
    if origin in (Union, types.UnionType):
        return _optional(hint, args)
    if origin is dict:
        return _mapping(_checker(args[1]))
    if origin in (list, tuple):
        return _sequence(_checker(args[0]))
    if is_dataclass(hint):
        return _record(hint)
    if hint in (str, int):
        return _scalar(hint)
    raise TypeError(f"no check for {hint!r}")


def _scalar(kind: type) -> _Check:
    def check(value: Any, where: str) -> None:
        if type(value) is not kind:  # exactly: true is no whole number, 1.0 no version
            raise _wrong(value, where, _KINDS[kind])
    return check


def _optional(hint: Any, args: tuple[Any, ...]) -> _Check:
    arms = [arm for arm in args if arm is not type(None)]
    if len(arms) != 1 or len(args) != 2:
        raise TypeError(f"no check for {hint!r}")
    inner = _checker(arms[0])

    def check(value: Any, where: str) -> None:
        if value is not None:
            inner(value, where)
    return check


def _mapping(inner: _Check) -> _Check:
    def check(value: Any, where: str) -> None:
        if type(value) is not dict:
            raise _wrong(value, where, "an object")
        for key, item in value.items():
            inner(item, _within(where, key))
    return check


def _sequence(inner: _Check) -> _Check:
    def check(value: Any, where: str) -> None:
        if type(value) is not list:
            raise _wrong(value, where, "a list")
        for number, item in enumerate(value):
            inner(item, _within(where, str(number)))
    return check


def _record(kind: type) -> _Check:
    hints = get_type_hints(kind)
    # Per field: its name, the exact types a plain field may hold (checked inline: a state of
    # 10,000 entries is checked in tens of milliseconds), else its checker, whether it must be
    # there, and the vocabulary its words come from.
    specs = [(each.name, _plain_types(hints[each.name]), _checker(hints[each.name]),
              each.default is MISSING and each.default_factory is MISSING, _CHOICES.get((kind, each.name)))
             for each in fields(kind)]
    known = {each.name for each in fields(kind)}

    def check(value: Any, where: str) -> None:
        if type(value) is not dict:
            raise _wrong(value, where, "an object")
        if value.keys() - known:
            raise Corrupt(f"has an unknown field `{min(value.keys() - known)}` {_at(where)}")
        for name, plain, inner, required, choices in specs:
            if name not in value:
                if required:
                    raise Corrupt(f"has no `{name}` {_at(where)}")
                continue
            item = value[name]
            if plain is None or type(item) not in plain:
                inner(item, _within(where, name))  # says what is wrong, or descends
            if choices is not None and item not in choices._value2member_map_:
                raise Corrupt(f"has `{item}` {_at(_within(where, name))}, which is none of "
                              f"{', '.join(member.value for member in choices)}")
    return check


def _plain_types(hint: Any) -> frozenset[type] | None:
    """The types a field of a plain type (a string, a whole number, either or null) may hold."""
    arms = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
    return frozenset(arms) if all(arm in (str, int, type(None)) for arm in arms) else None


@dataclass
class State:
    """What mdsync knows about each file, plus the site it belongs to."""

    directory: Path
    files: dict[str, FileState] = field(default_factory=dict)
    site: dict[str, Any] = field(default_factory=dict)
    # Cloud folders outside the tree that its listing meets (id -> title, parent_id, parent_type):
    # known, they are not read again each run. A resync reads them afresh.
    outside_folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    _journal: Any = field(default=None, repr=False, compare=False)
    # record() may run in worker threads (file I/O off the event loop): journal lines stay whole.
    _journal_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # Copies written since the last save and not yet fsynced.
    _unsynced: set[Path] = field(default_factory=set, repr=False, compare=False)
    # Where what this run finds broken under .mdsync goes (made when first needed).
    aside: Aside = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.aside = Aside(self.directory)

    @property
    def path(self) -> Path:
        return self.directory / "state.json"

    @property
    def journal_path(self) -> Path:
        return self.directory / "journal.jsonl"

    @property
    def base_dir(self) -> Path:
        return self.directory / "base"

    # -- reading and writing -----------------------------------------------------------------

    @classmethod
    @contextmanager
    def opened(cls, directory: Path, *, rebuild: bool = False) -> Iterator[State]:
        """The state for one run: loaded under the lock, a killed run's journal folded in.

        ``rebuild`` (``--resync``) never trusts a broken state: a ``.mdsync`` that is not a
        usable folder is moved beside itself, a broken lock, state.json or journal into
        ``.mdsync/broken-<UTC time>/`` (``state.aside`` says what went where), and the state
        starts empty for the caller to rebuild from both sides. The lock is taken first, so a
        live run's state is never moved.
        """
        aside = Aside(directory)
        problem = _folder_problem(directory)
        if problem is not None:
            if not rebuild:
                raise StateError.broken(directory, directory.name, problem)
            aside.move_folder(problem)
        holder = cls(directory)
        holder.aside = aside
        with holder.lock(take_over_broken=rebuild):
            state = cls._load_setting_aside(directory, aside) if rebuild else cls.load(directory)
            state.aside = aside
            if state.journal_path.exists():
                state.save()  # folded now: a torn last line goes before this run appends its own
            yield state

    @classmethod
    def _load_setting_aside(cls, directory: Path, aside: Aside) -> State:
        """Load what reads; move each broken part aside (a journal with the state.json it was
        written over) until what is left loads."""
        while True:
            try:
                state = cls.load(directory)
                break
            except StateError as error:
                part = error.part
                if part is None or part == directory or not os.path.lexists(part):
                    raise
                aside.move(part)
                journal = directory / "journal.jsonl"
                if part == directory / "state.json" and os.path.lexists(journal):
                    aside.move(journal)
        if os.path.lexists(state.base_dir) and not state.base_dir.is_dir():
            aside.move(state.base_dir)  # the copies' folder: a file there would stop every copy
        return state

    @classmethod
    def load(cls, directory: Path) -> State:
        """The state as last saved, with a killed run's journal replayed. Every field of every
        entry is checked: a part that is not as mdsync writes it raises StateError naming it."""
        state = cls(directory)
        problem = _folder_problem(directory)
        if problem is not None:
            raise StateError.broken(directory, directory.name, problem)
        raw = state._read(state.path)
        if raw is not None:  # else a first run, or one killed before its end (only the journal)
            try:
                state._take(_parse(raw))
            except Corrupt as corrupt:
                raise StateError.broken(state.path, state.shown(state.path), str(corrupt)) from None
        state._replay()
        return state

    def _take(self, data: Any) -> None:
        """Adopt the contents of state.json, once their shape is checked."""
        if isinstance(data, dict) and type(data.get("version")) is int and data["version"] != STATE_VERSION:
            raise Corrupt(f"is of state version {data['version']}, which this mdsync does not read")
        _checker(_Document)(data, "")
        for path in data.get("files", {}):
            check_entry_path(path)
        self.files = {path: FileState.from_json(entry) for path, entry in data.get("files", {}).items()}
        self.site = dict(data.get("site", {}))
        self.outside_folders = {key: dict(value) for key, value in data.get("outside_folders", {}).items()}

    def _read(self, part: Path) -> bytes | None:
        """The bytes of a file of the state; None if there is none."""
        try:
            return part.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise StateError.broken(part, self.shown(part), "is a folder, not a file") from None
        except OSError as error:
            reason = (error.strerror or type(error).__name__).lower()
            raise StateError.broken(part, self.shown(part), f"cannot be read ({reason})") from None

    def shown(self, part: Path) -> str:
        """A part of the state as a user finds it: ``.mdsync/state.json``."""
        return part.relative_to(self.directory.parent).as_posix()

    @classmethod
    def cached_cloud_id(cls, directory: Path, url: str) -> str | None:
        """The cloud id an earlier run discovered for this site, to skip discovering it again.

        Only a hint (the run then loads and checks the whole state): it reads the site alone,
        and anything unexpected is no hint."""
        try:
            data = _parse((directory / "state.json").read_bytes())
        except (OSError, Corrupt):
            return None
        site = data.get("site") if isinstance(data, dict) else None
        if not isinstance(site, dict) or site.get("url") != url:
            return None
        return site["cloud_id"] if isinstance(site.get("cloud_id"), str) else None

    def _replay(self) -> None:
        raw = self._read(self.journal_path)
        if raw is None:
            return
        lines = raw.split(b"\n")
        last = max((number for number, line in enumerate(lines, 1) if line.strip()), default=0)
        vouched: dict[str, dict[str, str | None]] = {}  # path -> copy kind -> hash, as last recorded
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                change = _journal_change(line)
            except Corrupt as corrupt:
                if number == last:
                    break  # the last line was cut off by a kill: that action was never recorded
                raise StateError.broken(self.journal_path, self.shown(self.journal_path),
                                        f"line {number} {corrupt}") from None
            path, entry = change["path"], change["entry"]
            if entry is None:
                self.files.pop(path, None)
                vouched.pop(path, None)
            else:
                self.files[path] = FileState.from_json(entry)
                if change.get("moved_from") in vouched:
                    vouched[path] = vouched.pop(change["moved_from"])
                vouched.setdefault(path, {}).update(change.get("copies") or {})
        self._check_copies(vouched)

    def _check_copies(self, vouched: Mapping[str, Mapping[str, str | None]]) -> None:
        """Drop each copy a power cut left unlike the one its journal line recorded."""
        for path, copies in vouched.items():
            for kind, digest in copies.items():
                copy = self._copy(path, kind)
                if digest is None:
                    continue
                try:
                    intact = copy_digest(copy.read_bytes()) == digest
                except OSError:
                    intact = False
                if intact:
                    self._unsynced.add(copy)  # a killed run's copies may still be only in memory
                else:
                    self._discard(copy)

    def _copy(self, path: str, kind: str) -> Path:
        return {"base": self.base_path, "storage": self.storage_path, "kept": self.kept_path}[kind](path)

    def save(self) -> None:
        """Write the whole state.json (folding in the journal) atomically."""
        data: dict[str, Any] = {"version": STATE_VERSION, "site": self.site,
                                "files": {path: self.files[path].to_json() for path in sorted(self.files)}}
        if self.outside_folders:
            data["outside_folders"] = self.outside_folders
        self._sync_copies()
        atomic_write(self.path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        self.close_journal()
        self.journal_path.unlink(missing_ok=True)

    def _sync_copies(self) -> None:
        """Make the copies written since the last save durable (the journal vouches for them
        until then). Past a few, one sync(2) costs less than an fsync each."""
        copies, self._unsynced = self._unsynced, set()
        if len(copies) > SYNC_ALL_FROM and hasattr(os, "sync"):
            os.sync()
            return
        for copy in copies:
            try:
                descriptor = os.open(copy, os.O_RDONLY)
            except FileNotFoundError:
                continue  # dropped or moved since; a moved copy is in this set under its new name
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def close_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _log(self, path: str, entry: FileState | None, copies: Mapping[str, str | None] | None = None,
             moved_from: str | None = None) -> None:
        """Persist one change durably at the cost of one line, not the whole file."""
        change: dict[str, Any] = {"path": path, "entry": entry.to_json() if entry else None}
        if copies:
            change["copies"] = dict(copies)
        if moved_from is not None:
            change["moved_from"] = moved_from
        line = json.dumps(change, sort_keys=True, ensure_ascii=False) + "\n"
        with self._journal_lock:
            if self._journal is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._journal = open(self.journal_path, "ab")  # noqa: SIM115 - kept open for the run
            self._journal.write(line.encode("utf-8"))
            self._journal.flush()
            os.fsync(self._journal.fileno())

    def record(self, path: str, entry: FileState, base: str | None = None, storage: str | None = None,
               kept: Mapping[str, Carried] | None = None) -> None:
        """Record one finished action, then persist, so a run killed later loses nothing.

        ``base`` is the Markdown as synced (the merge base); ``storage`` the page's storage as
        synced, from which the next pull tells Confluence's edits apart from mdsync's style
        and a push takes back what Markdown cannot say; ``kept`` what the file's carried
        regions refer to. The copies are written before the journal line: a kill between
        leaves copies of an action not recorded, which the next run writes again.
        """
        copies: dict[str, str | None] = {}
        if storage is not None:
            copies["storage"] = self._write_copy(self.storage_path(path), storage)
        if kept is not None:
            copies["kept"] = self._write_kept(path, kept, durable=False)
        if base is not None:
            copies["base"] = self._write_copy(self.base_path(path), base)
        self.files[path] = entry
        self._log(path, entry, copies)

    def _write_copy(self, copy: Path, text: str) -> str:
        data = text.encode("utf-8")
        self._put(copy, data, durable=False)
        self._unsynced.add(copy)
        return copy_digest(data)

    def _put(self, copy: Path, data: str | bytes, durable: bool) -> None:
        """Write one copy. A folder where the copy goes, or a file where its folder goes (not
        mdsync's doing), is moved aside: the action it records is done in Confluence."""
        try:
            atomic_write(copy, data, durable=durable)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            self._clear_way(copy)
            atomic_write(copy, data, durable=durable)

    def _clear_way(self, copy: Path) -> None:
        """Move aside what stands where ``copy`` or one of its folders goes."""
        for folder in reversed(copy.relative_to(self.directory).parents[:-1]):
            if os.path.lexists(self.directory / folder) and not (self.directory / folder).is_dir():
                self.aside.move(self.directory / folder)
                return
        if copy.is_dir():
            self.aside.move(copy)

    def _discard(self, copy: Path) -> None:
        """Take a copy away; one that is a folder is moved aside instead."""
        try:
            copy.unlink(missing_ok=True)
        except NotADirectoryError:
            self._clear_way(copy)  # a file where the copies' folder belongs: that copy was never there
        except (IsADirectoryError, PermissionError):
            if not copy.is_dir():
                raise
            self.aside.move(copy)

    def _read_copy(self, copy: Path) -> str | None:
        """A copy's text; None if it is missing or unusable (a folder, unreadable, not UTF-8):
        each copy only saves a request or a merge, so an unusable one counts as missing."""
        try:
            return copy.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def forget(self, path: str) -> None:
        self.files.pop(path, None)
        self._log(path, None)
        self.drop_copies(path)

    def drop_copies(self, path: str) -> None:
        """Take away a file's merge base, storage copy and kept payloads."""
        for copy in self._copies(path):
            self._discard(copy)

    def _copies(self, path: str) -> tuple[Path, Path, Path]:
        return self.base_path(path), self.storage_path(path), self.kept_path(path)

    def rename(self, old: str, new: str) -> None:
        """A file moved: its record and merge base follow it."""
        entry = self.files.pop(old, None)
        if entry is None:
            return
        self.files[new] = entry
        for old_copy, new_copy in zip(self._copies(old), self._copies(new)):
            if old_copy.exists():
                self._discard(new_copy)  # what is in its way (replaced anyway; a folder goes aside)
                new_copy.parent.mkdir(parents=True, exist_ok=True)
                os.replace(old_copy, new_copy)
                if old_copy in self._unsynced:
                    self._unsynced.add(new_copy)
        self._log(new, entry, moved_from=old)
        self._log(old, None)

    def storage(self, path: str) -> str | None:
        return self._read_copy(self.storage_path(path))

    def storage_path(self, path: str) -> Path:
        return self.base_path(path).with_name(self.base_path(path).name + ".storage")

    def kept_path(self, path: str) -> Path:
        return self.base_path(path).with_name(self.base_path(path).name + ".kept.json")

    def write_kept(self, path: str, kept: Mapping[str, Carried]) -> None:
        self._write_kept(path, kept, durable=True)

    def _write_kept(self, path: str, kept: Mapping[str, Carried], durable: bool) -> str | None:
        if not kept:
            self._discard(self.kept_path(path))
            return None
        text = json.dumps({ref: kept[ref].to_json() for ref in sorted(kept)}, indent=1, sort_keys=True,
                          ensure_ascii=False) + "\n"
        if durable:
            self._put(self.kept_path(path), text, durable=True)
            return None
        return self._write_copy(self.kept_path(path), text)

    def kept(self, path: str) -> dict[str, Carried]:
        """What the file's carried regions refer to (empty if nothing, or if the copy is damaged:
        the regions are then pushed as their Markdown, and a pull brings them back)."""
        text = self._read_copy(self.kept_path(path))
        if text is None:
            return {}
        from mdsync.convert.carry import (
            Carried,  # the planner reads the state without the converter
        )

        try:
            data = json.loads(text)
            return {str(ref): Carried.from_json(value) for ref, value in data.items()}
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
            return {}

    def update(self, path: str, **changes: Any) -> None:
        self.record(path, replace(self.files[path], **changes))

    def base(self, path: str) -> str | None:
        return self._read_copy(self.base_path(path))

    def base_path(self, path: str) -> Path:
        # Folder pages ("guides/") keep their base under a name that cannot clash with a file.
        name = path.rstrip("/") + (".folder" if path.endswith("/") else "")
        return self.base_dir / name

    def by_page(self) -> dict[str, str]:
        return {entry.page_id: path for path, entry in self.files.items()}

    # -- the lock ---------------------------------------------------------------------------------

    @contextmanager
    def lock(self, take_over_broken: bool = False) -> Iterator[None]:
        """Keep other mdsync runs out of this docs folder while the block runs.

        ``take_over_broken`` (a resync) moves aside a lock that is a folder: no run holds one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = self.directory / "lock"
        if lock.is_dir():
            if not take_over_broken:
                raise StateError.broken(lock, self.shown(lock), "is a folder, not a lock file")
            self.aside.move(lock)
        me = f"{os.getpid()}@{socket.gethostname()}"
        for _ in range(2):
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder(lock)
                if _stale(holder):
                    lock.unlink(missing_ok=True)  # left by a run that died: take it over
                    continue
                raise Locked(f"Another mdsync run ({holder or 'unknown'}) is working on this folder: wait for it to "
                             f"finish, or delete {lock} if it is not running.") from None
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(me)
            break
        try:
            yield
        finally:
            try:
                if self._holder(lock) == me:
                    lock.unlink()
            except (OSError, Locked):
                pass  # not ours to remove, or gone

    def _holder(self, lock: Path) -> str:
        """Who holds the lock, as its file says ("" if it is gone)."""
        try:
            return lock.read_text(encoding="utf-8", errors="replace").strip()
        except FileNotFoundError:
            return ""
        except OSError as error:
            # Whether a run holds it cannot be told: it is never taken over, not even by a resync.
            raise Locked(f"`{self.shown(lock)}` cannot be read ({(error.strerror or '').lower()}), so whether "
                         f"another mdsync run holds it cannot be told: delete {lock} if none is running.") from None


class Aside:
    """Where a run moves what it finds broken in ``.mdsync/``: ``broken-<UTC time>/`` inside
    it, made when first needed (or ``.mdsync.broken-<time>`` beside it, for a ``.mdsync``
    that is not a usable folder). A move, never a delete: a team may commit the state."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.folder: Path | None = None
        self.notes: list[str] = []  # a sentence per move, for the run's report

    def move(self, part: Path) -> Path:
        if self.folder is None:
            self.folder = _unused(self.directory / f"broken-{_utc_stamp()}")
            self.folder.mkdir()
        target = _unused(self.folder / part.relative_to(self.directory))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(part, target)
        self.notes.append(f"`{self._shown(part)}` could not be trusted: it is kept as `{self._shown(target)}`.")
        return target

    def move_folder(self, problem: str) -> Path:
        target = _unused(self.directory.with_name(f"{self.directory.name}.broken-{_utc_stamp()}"))
        os.rename(self.directory, target)
        self.notes.append(f"`{self.directory.name}` {problem}: it is kept as `{target.name}` beside it.")
        return target

    def _shown(self, path: Path) -> str:
        return path.relative_to(self.directory.parent).as_posix()


def _utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _unused(path: Path) -> Path:
    """``path``, or the first of ``path-2``, ``path-3``... that does not exist yet."""
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def _folder_problem(directory: Path) -> str | None:
    """What keeps ``.mdsync`` from being used as the state's folder (None: nothing, or absent)."""
    if not os.path.lexists(directory):
        return None
    if not directory.is_dir():
        return "is a file, not a folder" if directory.is_file() else "is not a folder"
    if not os.access(directory, os.R_OK | os.W_OK | os.X_OK):
        return "cannot be read or written (permission denied)"
    return None


def _stale(holder: str) -> bool:
    pid_text, _, host = holder.partition("@")
    if host and host != socket.gethostname():
        return False  # another machine's lock (a shared folder): never assume it is dead
    try:
        pid = int(pid_text)
    except ValueError:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# One thread writes what a run records: the event loop never waits on a disk, and one writer
# costs far less than a thread per record, which the interpreter lock made take turns.
_WRITER = ThreadPoolExecutor(1, thread_name_prefix="mdsync-writer")
_Result = TypeVar("_Result")


async def on_writer(function: Callable[..., _Result], *args: Any, **kwargs: Any) -> _Result:
    """Run ``function`` on the writer thread (writes land in the order they are asked for).

    A write, once asked for, lands even if the caller is cancelled (Ctrl-C) while it waits
    its turn: it records what Confluence already has.
    """
    queued = _WRITER.submit(functools.partial(function, *args, **kwargs))
    return await asyncio.shield(asyncio.wrap_future(queued))


def after_queued_writes() -> None:
    """Wait until every write asked for so far has landed."""
    _WRITER.submit(lambda: None).result()


def copy_digest(data: bytes) -> str:
    """The hash a journal line keeps of a copy, to tell a copy a power cut damaged."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def atomic_write(path: Path, text: str | bytes, durable: bool = True) -> None:
    """Write all or nothing: a temporary file beside the target, fsync, rename.

    ``durable=False`` leaves out the fsync: a kill cannot tear the file, a power cut can
    (the caller keeps a hash to tell, and syncs later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
