"""`mdsync watch`: push each save within a second, pull what colleagues change.

A watchdog observer notes which paths changed; the asyncio loop waits until a path has
been quiet for the debounce time (so an editor's burst of writes, renames and swap files
becomes one change) and then runs the sync engine on just those paths. Every ``poll``
seconds a run over the whole tree pulls what changed in Confluence. Each run is an
ordinary `sync`: the state, the lock, the three-way rules and the conflict copies are the
same as on the command line.

What the watcher adds: temporary files are never looked at, a file gone for less than
``delete_grace`` is being saved (not deleted), files whose content the state already
records (mdsync's own pulls) cause no run, and failures (network, rate limits, a lock
held by another run) are reported once and retried with backoff while changes wait.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from mdsync.config import Config
from mdsync.confluence.client import ConfluenceClient
from mdsync.docs import CONFLICT_SUFFIX, file_hash
from mdsync.errors import ConfigError, MdsyncError
from mdsync.sync.engine import Engine, RunOptions
from mdsync.sync.report import Outcome, Report
from mdsync.sync.state import State, StateError
from mdsync.vocabulary import ConflictPolicy

# Editors' temporary, swap and backup files: vim (.swp, ~, 4913), emacs (#x#, .#x),
# JetBrains safe-write (___jb_tmp___, ___jb_old___), Chrome-style .crswap, our own .tmp.
TEMPORARY_SUFFIXES = (".swp", ".swx", ".swo", "~", ".tmp", ".bak", ".crswap", "___jb_tmp___", "___jb_old___",
                      CONFLICT_SUFFIX)
MAX_BACKOFF = 60.0


def is_temporary(name: str) -> bool:
    return name.startswith((".", "#")) or name.endswith(TEMPORARY_SUFFIXES) or name == "4913"


@dataclass(frozen=True)
class WatchOptions:
    debounce: float = 0.3  # seconds a path must be quiet before it is synced
    poll: float = 30.0  # seconds between looks at Confluence; 0 = never
    delete_grace: float = 1.0  # a file gone for less than this is being saved, not deleted
    max_delete: tuple[float | None, int | None] | None = None  # (share, count) instead of sync.max_delete


class Reporter(Protocol):
    """What the watcher tells the user (a live status line, or JSON lines for tools)."""

    def event(self, kind: str, **fields: Any) -> None: ...

    def outcome(self, outcome: Outcome) -> None: ...

    def pending(self, count: int) -> None: ...


class _Forwarder(FileSystemEventHandler):
    """Runs in the observer's thread: hands each relevant path to the event loop."""

    def __init__(self, root: Path, loop: asyncio.AbstractEventLoop, note: Callable[[str, bool], None]) -> None:
        self.root = root
        self.loop = loop
        self.note = note

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = self._relative(raw)
            if path is not None:
                self.loop.call_soon_threadsafe(self.note, path, event.is_directory)

    def _relative(self, raw: str | bytes) -> str | None:
        if not raw:
            return None
        text = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
        try:
            relative = Path(text).relative_to(self.root).as_posix()
        except ValueError:
            return None
        parts = relative.split("/")
        if relative in ("", ".") or any(part.startswith(".") for part in parts) or is_temporary(parts[-1]):
            return None
        return relative


class Watcher:
    def __init__(self, config: Config, client: ConfluenceClient, reporter: Reporter,
                 options: WatchOptions = WatchOptions()) -> None:
        self.config = config
        self.client = client
        self.reporter = reporter
        self.options = options
        self.root = config.docs.resolve()
        # Watching never overwrites: a both-sides change is merged cleanly or left as a conflict
        # ("local" and "remote" stop instead).
        self.on_conflict = config.sync.on_conflict if config.sync.on_conflict in (
            ConflictPolicy.AUTO, ConflictPolicy.STOP, ConflictPolicy.MERGE) else ConflictPolicy.STOP
        self.pending: dict[str, float] = {}  # path -> when its last event came
        self.site_cache: dict[str, Any] = {}
        self.failures = 0
        self.retry_at = 0.0
        self.retry_everything = False  # the failed run was a whole-tree one (start or poll)
        self.last_failure = ""
        self.reported: dict[str, tuple[str, str, str]] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    # -- control ---------------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def note(self, path: str, is_directory: bool = False) -> None:
        self.pending[path + "/" if is_directory else path] = time.monotonic()
        self.reporter.pending(len(self.pending))
        self._wake.set()

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> None:
        if not self.root.is_dir():
            raise ConfigError(f"The docs folder {self.root} does not exist: create it or set 'docs' in mdsync.yaml.")
        observer = Observer()
        observer.schedule(_Forwarder(self.root, asyncio.get_running_loop(), self.note), str(self.root),
                          recursive=True)
        observer.start()
        self.reporter.event("watching", docs=str(self.root), debounce=self.options.debounce, poll=self.options.poll)
        try:
            await self._cycle(None, "start")
            next_poll = self._next_poll()
            while not self.stopping:
                now = time.monotonic()
                # While Confluence is away nothing is due before the retry (polls included).
                due = min(self._due(now), max(next_poll, self.retry_at))
                self._wake.clear()
                if due > now:
                    try:
                        await asyncio.wait_for(self._wake.wait(), None if math.isinf(due) else due - now)
                    except TimeoutError:
                        pass
                if self.stopping:
                    break
                now = time.monotonic()
                if now < self.retry_at:
                    continue
                ready = self._ready(now)
                if ready:
                    await self._cycle(ready, "change")
                elif now >= next_poll or self.retry_everything:
                    await self._cycle(None, "poll")
                    next_poll = self._next_poll()
        finally:
            observer.stop()
            observer.join(timeout=5)
            self.reporter.event("stopped")

    def _next_poll(self) -> float:
        return time.monotonic() + self.options.poll if self.options.poll > 0 else math.inf

    def _due(self, now: float) -> float:
        """When the next pending path becomes ready, or the failed run is to be retried."""
        earliest = min((self._ready_at(path, seen) for path, seen in self.pending.items()), default=math.inf)
        if not self.failures:
            return now if self.retry_everything else earliest  # back online: catch up at once
        if self.pending or self.retry_everything:
            return max(self.retry_at, earliest if self.pending else self.retry_at)
        return math.inf

    def _ready_at(self, path: str, seen: float) -> float:
        gone = not path.endswith("/") and not (self.root / path).exists()
        return seen + max(self.options.debounce, self.options.delete_grace if gone else 0.0)

    def _ready(self, now: float) -> list[str]:
        ready = [path for path, seen in self.pending.items() if self._ready_at(path, seen) <= now]
        for path in ready:
            del self.pending[path]
        self.reporter.pending(len(self.pending))
        return ready

    # -- one run ---------------------------------------------------------------------------------

    async def _cycle(self, paths: list[str] | None, trigger: str) -> None:
        """Sync ``paths`` (None: everything). Failures put the paths back for a later retry."""
        selected = None if paths is None else self._worth_syncing(paths)
        if selected is not None and not selected:
            return
        try:
            report = await Engine(self.config, self.client, site_cache=self.site_cache).run(
                RunOptions(mode="sync", paths=tuple(sorted(selected or ())), on_conflict=self.on_conflict,
                           isolate_problems=True, max_delete=self.options.max_delete))
        except ConfigError:
            raise
        except (MdsyncError, OSError) as error:
            self.retry_everything = self.retry_everything or paths is None
            self._failed(error.message if isinstance(error, MdsyncError) else str(error), paths or [])
            return
        if self.failures:
            self.reporter.event("online", message="Confluence answers again: caught up.")
        if paths is None:
            self.retry_everything = False
        self.failures, self.retry_at, self.last_failure = 0, 0.0, ""
        self._report(report, trigger)

    def _failed(self, message: str, paths: list[str]) -> None:
        self.failures += 1
        delay = min(MAX_BACKOFF, self.options.debounce * 2 ** self.failures + 1)
        self.retry_at = time.monotonic() + delay
        for path in paths:  # ready again as soon as the retry is due
            self.pending.setdefault(path, 0.0)
        if message != self.last_failure:  # said once, not at every retry
            self.last_failure = message
            self.reporter.event("waiting", message=message, retry_in=round(delay, 1))

    def _report(self, report: Report, trigger: str) -> None:
        for note in report.notes:
            self.reporter.event("note", message=note)
        for problem in report.problems:
            if self.reported.get(problem) != ("problem", "", ""):
                self.reported[problem] = ("problem", "", "")
                self.reporter.event("problem", message=problem)
        for outcome in report.outcomes:
            if outcome.action == "noop":
                continue
            key = (outcome.action, outcome.status, outcome.message)
            if outcome.status in ("reported", "conflict", "failed") and self.reported.get(outcome.path) == key:
                continue  # the same news as last time: not repeated at every poll
            self.reported[outcome.path] = key
            self.reporter.outcome(outcome)
        writes = sum(1 for outcome in report.outcomes if outcome.status == "done" and outcome.action != "noop")
        self.reporter.event("synced", trigger=trigger, actions=writes, conflicts=len(report.conflicts),
                            failures=len(report.failures))

    def _worth_syncing(self, paths: list[str]) -> list[str]:
        """The paths whose content is not what the state already records (mdsync's own writes
        come back as events too), with changed attachments turned into the pages using them."""
        try:
            state = State.load(self.config.state_dir)
        except StateError:
            return paths  # the engine will say what is wrong
        users: dict[str, list[str]] = {}
        for page_path, entry in state.files.items():
            for attachment in entry.attachments.values():
                users.setdefault(attachment.path, []).append(page_path)
        selected: set[str] = set()
        for path in paths:
            file = self.root / path
            if path.endswith("/"):
                selected.add(path)  # a folder: the plan decides
            elif not file.is_file():
                if path in state.files or any(other.startswith(path + "/") for other in state.files):
                    selected.add(path)  # deleted (or a folder removed): the plan decides
            elif path.lower().endswith(".md"):
                entry = state.files.get(path)
                if entry is None or entry.md_hash != file_hash(file.read_bytes()):
                    selected.add(path)
            elif path in users:
                known = {attachment.hash for user in users[path]
                         for attachment in state.files[user].attachments.values() if attachment.path == path}
                if file_hash(file.read_bytes()) not in known:
                    selected.update(users[path])
        return sorted(selected)


__all__ = ["Reporter", "WatchOptions", "Watcher", "is_temporary"]
