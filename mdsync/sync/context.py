"""One run's world: what it was asked, both sides as read, the state, and the plan.

The sides (``sides.py``) fill it in, the planner reads it, and the executors of push
(``push.py``) and pull (``pull.py``) work over it; nothing of a run lives anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mdsync.config import Config
from mdsync.confluence.client import ConfluenceClient
from mdsync.confluence.models import Page, Space
from mdsync.convert import carry
from mdsync.docs import FileInfo, Links, LocalDoc, Reach, read_markdown
from mdsync.errors import MdsyncError
from mdsync.sync import plan as planner
from mdsync.sync.report import Outcome
from mdsync.sync.sending import Sending
from mdsync.sync.state import FileState, State
from mdsync.vocabulary import ConflictPolicy, DeletePolicy, Keep, Mode

if TYPE_CHECKING:
    from mdsync.sync.conversions import Conversions


@dataclass(frozen=True)
class RunOptions:
    mode: Mode = Mode.SYNC
    dry_run: bool = False
    force: bool = False
    delete: DeletePolicy | None = None
    on_conflict: ConflictPolicy | None = None
    paths: tuple[str, ...] = ()
    resync: bool = False
    check: bool = False  # change nothing; out of step -> exit 4
    status: bool = False  # change nothing; report each file's state
    isolate_problems: bool = False  # a title clash skips the files at fault instead of stopping (watch)
    allow_home: bool = False  # the docs folder's index file may write the space's home page (--allow-home)
    max_delete: tuple[float | None, int | None] | None = None  # (share, count) for this run (--max-delete)
    keep: Keep | None = None  # mdsync resolve: the side that becomes the agreed version of ``paths``

    @property
    def read_only(self) -> bool:
        return self.dry_run or self.check or self.status


class Progress(Protocol):
    """Told how many actions a run will carry out, then each outcome as it lands."""

    def start(self, total: int) -> None: ...

    def advance(self, outcome: Outcome) -> None: ...


@dataclass(frozen=True)
class Agreement:
    """A file changed here whose page changed in Confluence to the very same thing: what the
    state learns (a run killed after a write leaves this, and so does one edit made twice)."""

    entry: FileState
    text: str | None  # the merge base (None: the one kept stays)
    storage: str
    kept: dict[str, carry.Carried] | None


@dataclass
class Run:
    config: Config
    client: ConfluenceClient
    state: State
    options: RunOptions
    site_cache: dict[str, Any]  # space and root page, kept by a long-lived caller (watch)
    sending: Sending  # page writes sent and not yet recorded (this run's, and a killed run's)
    space: Space | None = None
    root_page: Page | None = None
    remote: dict[str, Page] = field(default_factory=dict)  # the tree under the root page, by id
    outside: dict[str, str] = field(default_factory=dict)  # lower-cased title -> id, pages outside the tree
    archived: dict[str, Page] = field(default_factory=dict)  # archived pages of the space, by id
    root_listed: Page | None = None  # the page holding the tree, as this run's listing has it
    root_file: str | None = None  # the docs folder's own index file, the body of that page
    under: dict[str, list[str]] | None = None  # parent id -> tracked paths, made at the first trash
    docs: dict[str, LocalDoc] = field(default_factory=dict)
    infos: dict[str, FileInfo] = field(default_factory=dict)
    payloads: dict[str, dict[str, carry.Carried]] = field(default_factory=dict)  # per file, once looked up
    agreed: dict[str, Agreement] = field(default_factory=dict)
    plan: planner.Plan = field(default_factory=planner.Plan)
    site_changed: bool = False
    offline: str | None = None  # why Confluence could not be asked (status then shows the files' side only)
    links: Links | None = None  # how the files' links resolve in the tree (made once the files are read)
    conversions: Conversions | None = None  # where a push converts its files (workers for a big one)

    @property
    def root(self) -> Path:
        return self.config.docs

    @property
    def root_id(self) -> str:
        assert self.root_page is not None
        return self.root_page.id

    @cached_property
    def reach(self) -> Reach:
        """Where the run may read: the repository, the docs folder, what include_outside lists."""
        return Reach.of(self.config.root, self.config.docs, self.config.include_outside)

    def text(self, path: str) -> str:
        return read_markdown(self.root / path, path, self.reach)

    def page_id(self, path: str | None) -> str:
        """The page id of a file's page (None: the tree's root)."""
        if path is None:
            return self.root_id
        entry = self.state.files.get(path)
        if entry is None:
            raise MdsyncError(f"The parent page for {path} does not exist yet.")
        return entry.page_id

    def remote_page(self, action: planner.Action) -> Page:
        if self.root_listed is not None and action.page_id == self.root_listed.id:
            return self.root_listed
        page = self.remote.get(action.page_id or "")
        if page is None:
            raise MdsyncError(f"The page for {action.path} is no longer in the tree in Confluence.")
        return page


Executor = Callable[[Run, planner.Action], Any]  # an async function carrying out one kind of action
