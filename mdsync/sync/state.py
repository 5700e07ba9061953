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
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TypeVar

from mdsync.errors import MdsyncError
from mdsync.vocabulary import ExitCode

if TYPE_CHECKING:
    from mdsync.convert.carry import Carried

STATE_VERSION = 1
SYNC_ALL_FROM = 32  # copies to make durable at a save, past which one sync(2) is cheaper


class StateError(MdsyncError):
    pass


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
        data = asdict(self)
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
    def load(cls, directory: Path) -> State:
        state = cls(directory)
        if not state.path.exists():
            state._replay()  # a first run killed before its end left only the journal
            return state
        try:
            data = json.loads(state.path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')}")
            state.files = {path: FileState.from_json(entry) for path, entry in data.get("files", {}).items()}
            state.site = dict(data.get("site") or {})
            state.outside_folders = {str(key): dict(value) for key, value in (data.get("outside_folders") or {}).items()}
        except (ValueError, TypeError, KeyError) as error:
            raise StateError(f"{state.path} cannot be read ({error}): run 'mdsync sync --resync' to rebuild it from "
                             "Confluence and the docs folder.") from None
        state._replay()
        return state

    @classmethod
    def cached_cloud_id(cls, directory: Path, url: str) -> str | None:
        """The cloud id an earlier run discovered for this site, to skip discovering it again."""
        try:
            site = cls.load(directory).site
        except StateError:
            return None
        return site.get("cloud_id") if site.get("url") == url else None

    def _replay(self) -> None:
        if not self.journal_path.exists():
            return
        lines = self.journal_path.read_bytes().split(b"\n")
        vouched: dict[str, dict[str, str | None]] = {}  # path -> copy kind -> hash, as last recorded
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                change = json.loads(line)
                path, entry = change["path"], change["entry"]
                if entry is None:
                    self.files.pop(path, None)
                    vouched.pop(path, None)
                else:
                    self.files[path] = FileState.from_json(entry)
                    if change.get("moved_from") in vouched:
                        vouched[path] = vouched.pop(change["moved_from"])
                    vouched.setdefault(path, {}).update(change.get("copies") or {})
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                if number == len(lines):
                    break  # the last line was cut off by a kill: that action was never recorded
                raise StateError(f"{self.journal_path} line {number} cannot be read ({error}): run 'mdsync sync "
                                 "--resync' to rebuild the state from Confluence and the docs folder.") from None
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
                    copy.unlink(missing_ok=True)

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
        atomic_write(copy, data, durable=False)
        self._unsynced.add(copy)
        return copy_digest(data)

    def forget(self, path: str) -> None:
        self.files.pop(path, None)
        self._log(path, None)
        self.drop_copies(path)

    def drop_copies(self, path: str) -> None:
        """Take away a file's merge base, storage copy and kept payloads."""
        for copy in self._copies(path):
            copy.unlink(missing_ok=True)

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
                new_copy.parent.mkdir(parents=True, exist_ok=True)
                os.replace(old_copy, new_copy)
                if old_copy in self._unsynced:
                    self._unsynced.add(new_copy)
        self._log(new, entry, moved_from=old)
        self._log(old, None)

    def storage(self, path: str) -> str | None:
        copy = self.storage_path(path)
        return copy.read_text(encoding="utf-8") if copy.exists() else None

    def storage_path(self, path: str) -> Path:
        return self.base_path(path).with_name(self.base_path(path).name + ".storage")

    def kept_path(self, path: str) -> Path:
        return self.base_path(path).with_name(self.base_path(path).name + ".kept.json")

    def write_kept(self, path: str, kept: Mapping[str, Carried]) -> None:
        self._write_kept(path, kept, durable=True)

    def _write_kept(self, path: str, kept: Mapping[str, Carried], durable: bool) -> str | None:
        if not kept:
            self.kept_path(path).unlink(missing_ok=True)
            return None
        text = json.dumps({ref: kept[ref].to_json() for ref in sorted(kept)}, indent=1, sort_keys=True,
                          ensure_ascii=False) + "\n"
        if durable:
            atomic_write(self.kept_path(path), text)
            return None
        return self._write_copy(self.kept_path(path), text)

    def kept(self, path: str) -> dict[str, Carried]:
        """What the file's carried regions refer to (empty if nothing, or if the copy is damaged:
        the regions are then pushed as their Markdown, and a pull brings them back)."""
        copy = self.kept_path(path)
        if not copy.exists():
            return {}
        from mdsync.convert.carry import (
            Carried,  # the planner reads the state without the converter
        )

        try:
            data = json.loads(copy.read_text(encoding="utf-8"))
            return {str(ref): Carried.from_json(value) for ref, value in data.items()}
        except (ValueError, TypeError, AttributeError, OSError):
            return {}

    def update(self, path: str, **changes: Any) -> None:
        self.record(path, replace(self.files[path], **changes))

    def base(self, path: str) -> str | None:
        base = self.base_path(path)
        return base.read_text(encoding="utf-8") if base.exists() else None

    def base_path(self, path: str) -> Path:
        # Folder pages ("guides/") keep their base under a name that cannot clash with a file.
        name = path.rstrip("/") + (".folder" if path.endswith("/") else "")
        return self.base_dir / name

    def by_page(self) -> dict[str, str]:
        return {entry.page_id: path for path, entry in self.files.items()}

    # -- the lock ---------------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Keep other mdsync runs out of this docs folder while the block runs."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = self.directory / "lock"
        me = f"{os.getpid()}@{socket.gethostname()}"
        for _ in range(2):
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = lock.read_text(encoding="utf-8", errors="replace").strip() if lock.exists() else ""
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
            if lock.exists() and lock.read_text(encoding="utf-8", errors="replace").strip() == me:
                lock.unlink()


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
