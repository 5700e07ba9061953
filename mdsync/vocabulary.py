"""The words every part of mdsync shares: run modes, policies, actions, where a file stands.

Each vocabulary is an enum of strings, so a value reads and prints as the word users type
(``push``, ``merge``, ``trash``) and the configuration, the command line, the planner and
the report all check against one list. ``ACTIONS`` is the one table of what an action is:
the order a run carries it out in, where it leaves its file standing, and which side it
writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum


class ExitCode(IntEnum):
    """How a command ends, the same for every command."""

    OK = 0
    FAILURE = 1
    USAGE = 2  # usage or configuration error
    CONFLICT = 3  # stopped on conflicts: nothing overwritten
    DIFFERENCES = 4  # --check found the two sides out of step


class Mode(StrEnum):
    PUSH = "push"
    PULL = "pull"
    SYNC = "sync"


class AuthMode(StrEnum):
    """How mdsync signs in to Confluence (confluence.auth)."""

    TOKEN = "token"  # an Atlassian account's email and API token (HTTP Basic), against the site
    BEARER = "bearer"  # a scoped API token or an OAuth access token, through Atlassian's gateway
    MATON = "maton"  # a Maton API key, through the Maton gateway


class ConflictPolicy(StrEnum):
    """What a run does with a file changed both here and in Confluence (sync.on_conflict)."""

    AUTO = "auto"  # merge edits to different lines; edits to the same lines stop as STOP does
    STOP = "stop"  # the file as it is, Confluence's version beside it (NAME.remote.md)
    MERGE = "merge"  # merge; where both changed the same lines, conflict markers in the file
    LOCAL = "local"
    REMOTE = "remote"


class Keep(StrEnum):
    """What ``mdsync resolve`` makes the agreed version of a file in conflict (--keep)."""

    MERGED = "merged"  # the file as it is now, merged by hand (no conflict markers left)
    LOCAL = "local"  # the file as it is, overwriting Confluence's edit
    REMOTE = "remote"  # Confluence's version, discarding the edit here


class DeletePolicy(StrEnum):
    """What a push does with the page of a deleted file (sync.delete)."""

    KEEP = "keep"
    TRASH = "trash"


class FolderStyle(StrEnum):
    """What a local directory without an index file becomes in Confluence (folders)."""

    FOLDER = "folder"  # a Cloud folder: no body, no version of its own to keep in step
    PAGE = "page"  # an empty page titled after the directory (Data Center has no folders)


class FileNames(StrEnum):
    """How a pull names the file of a page made in Confluence (pull.filenames)."""

    SLUG = "slug"  # docs-as-code: "Colleague FAQ" -> colleague-faq.md
    TITLE = "title"  # the title as it is, made safe: "Colleague FAQ" -> Colleague FAQ.md


class HomePage(StrEnum):
    """Whether the docs folder's index file may write the space's home page (home_page), when
    the tree hangs under it (no parent set)."""

    KEEP = "keep"  # a run that would write it stops and says so
    WRITE = "write"


class ContentKind(StrEnum):
    """The kinds of content a file or directory of the tree stands for."""

    PAGE = "page"
    BLOGPOST = "blogpost"
    FOLDER = "folder"


class TitleSource(StrEnum):
    """Where a file's page title comes from (and so where a title changed in Confluence goes)."""

    FRONT_MATTER = "front_matter"
    HEADING = "heading"  # the opening H1, which leaves the body
    HEADING_KEPT = "heading_kept"  # a later H1, which stays in the body
    FILENAME = "filename"
    FOLDER = "folder"  # an index file without H1, or a folder with no file
    TREE_ROOT = "tree_root"  # the docs folder's own index file: the body of the page holding the tree, which keeps its title


class Status(StrEnum):
    """How an action ended."""

    DONE = "done"
    SKIPPED = "skipped"  # not tried: its parent failed
    FAILED = "failed"
    CONFLICT = "conflict"  # stopped: both sides changed
    PLANNED = "planned"  # a dry run, a check or status: nothing written
    REPORTED = "reported"  # nothing to do here; said so


class Standing(StrEnum):
    """Where a file stands against its page (what ``status`` shows)."""

    IN_STEP = "in step"
    NEW_HERE = "new here"
    CHANGED_HERE = "changed here"
    MOVED_HERE = "moved here"
    RENAMED_HERE = "renamed here"
    DELETED_HERE = "deleted here"
    CHANGED_THERE = "changed in Confluence"
    NEW_THERE = "new in Confluence"
    MOVED_THERE = "moved in Confluence"
    DELETED_THERE = "deleted in Confluence"
    ARCHIVED_THERE = "archived in Confluence"
    REORDERED_HERE = "order changed here"
    REORDERED_THERE = "order changed in Confluence"
    CHANGED_BOTH = "changed here and in Confluence"
    GONE = "gone on both sides"
    HELD_BACK = "held back"  # cannot be synced as it is (unreadable, or its title clashes): see why


class Change(Enum):
    """A fact about a file the planner found, carried on its action (never read from text)."""

    HERE = "changed here"
    THERE = "changed in Confluence"


class Side(Enum):
    NONE = "none"
    LOCAL = "local"
    REMOTE = "remote"
    BOTH = "both"


class ActionKind(StrEnum):
    FORGET = "forget"
    CREATE = "create"
    ADOPT = "adopt"
    LINK = "link"  # a pull ties a new file to the page an earlier run made from it (no write)
    RENAME = "rename"
    MOVE = "move"
    UPDATE = "update"
    MERGE = "merge"
    PULL = "pull"
    NEW_FILE = "new_file"
    REMOVE_FILE = "remove_file"
    TRASH = "trash"
    CONFLICT = "conflict"
    KEEP = "keep"
    REMOTE_ONLY = "remote_only"
    LOCAL_ONLY = "local_only"
    SKIP = "skip"
    NOOP = "noop"
    AGREE = "agree"
    MOVE_FOLDER = "move_folder"
    ARCHIVED = "archived"
    REORDER = "reorder"  # put sibling pages in the order their files say
    PULL_ORDER = "pull_order"  # write the order Confluence has into the files


@dataclass(frozen=True)
class ActionSpec:
    order: int  # a run carries out the actions of one order before the next
    standing: Standing  # where the action's file stands, for status
    writes: Side  # which side the action writes


ACTIONS: dict[ActionKind, ActionSpec] = {
    ActionKind.FORGET: ActionSpec(0, Standing.GONE, Side.NONE),
    ActionKind.MOVE_FOLDER: ActionSpec(0, Standing.MOVED_THERE, Side.LOCAL),
    ActionKind.AGREE: ActionSpec(0, Standing.IN_STEP, Side.NONE),
    ActionKind.CREATE: ActionSpec(1, Standing.NEW_HERE, Side.REMOTE),
    ActionKind.ADOPT: ActionSpec(1, Standing.NEW_HERE, Side.REMOTE),
    ActionKind.LINK: ActionSpec(1, Standing.NEW_HERE, Side.NONE),
    ActionKind.RENAME: ActionSpec(2, Standing.RENAMED_HERE, Side.REMOTE),
    ActionKind.MOVE: ActionSpec(2, Standing.MOVED_HERE, Side.REMOTE),
    ActionKind.UPDATE: ActionSpec(3, Standing.CHANGED_HERE, Side.REMOTE),
    ActionKind.MERGE: ActionSpec(3, Standing.CHANGED_BOTH, Side.BOTH),
    ActionKind.PULL: ActionSpec(3, Standing.CHANGED_THERE, Side.LOCAL),
    ActionKind.NEW_FILE: ActionSpec(4, Standing.NEW_THERE, Side.LOCAL),
    ActionKind.REORDER: ActionSpec(5, Standing.REORDERED_HERE, Side.REMOTE),  # once the pages exist
    ActionKind.PULL_ORDER: ActionSpec(5, Standing.REORDERED_THERE, Side.LOCAL),
    ActionKind.REMOVE_FILE: ActionSpec(5, Standing.DELETED_THERE, Side.LOCAL),
    ActionKind.TRASH: ActionSpec(6, Standing.DELETED_HERE, Side.REMOTE),
    ActionKind.CONFLICT: ActionSpec(7, Standing.CHANGED_BOTH, Side.LOCAL),  # Confluence's side goes beside the file
    ActionKind.KEEP: ActionSpec(8, Standing.DELETED_HERE, Side.NONE),
    ActionKind.REMOTE_ONLY: ActionSpec(8, Standing.CHANGED_THERE, Side.NONE),
    ActionKind.ARCHIVED: ActionSpec(8, Standing.ARCHIVED_THERE, Side.NONE),
    ActionKind.LOCAL_ONLY: ActionSpec(8, Standing.CHANGED_HERE, Side.NONE),
    ActionKind.SKIP: ActionSpec(8, Standing.HELD_BACK, Side.NONE),
    ActionKind.NOOP: ActionSpec(9, Standing.IN_STEP, Side.NONE),
}
