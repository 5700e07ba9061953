"""`mdsync resolve`: a conflict settled in one command.

Resolving is choosing, in Unison's sense: the file as merged by hand (``merged``), the file as
it is (``local``) or Confluence's version (``remote``) becomes the agreed version of the file.
One run of the engine limited to those files carries it out at once (the planner's ``keep``):
the chosen text is written to the other side, the state records it, and Confluence's copy
beside the file (``NAME.remote.md``) goes. A file still holding conflict markers is not
resolved as merged, nor pushed as it is; a page a colleague changed again since its copy was
written is not overwritten unseen (``files.check_copy_current``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from mdsync.config import Config
from mdsync.confluence.client import ConfluenceClient
from mdsync.docs import conflict_copy
from mdsync.errors import UsageError
from mdsync.sync.context import Progress, RunOptions
from mdsync.sync.engine import Engine
from mdsync.sync.files import command_path
from mdsync.sync.merge import first_marker_line
from mdsync.sync.names import OutsideDocs, docs_file
from mdsync.sync.report import Outcome, Report
from mdsync.sync.state import State
from mdsync.vocabulary import ActionKind, Keep, Mode, Status


@dataclass
class Targets:
    """The files a resolve run settles, and what it says without running for the others."""

    paths: list[str] = field(default_factory=list)
    refused: list[Outcome] = field(default_factory=list)  # conflict markers still in them
    notes: list[str] = field(default_factory=list)


async def resolve(config: Config, client: ConfluenceClient, paths: Sequence[str], keep: Keep, *,
                  every: bool = False, dry_run: bool = False, progress: Progress | None = None) -> Report:
    """Settle the files at ``paths`` (docs-relative; a folder: the files in it with a copy beside
    them; ``every``: all such files) with the side ``keep`` names."""
    found = targets(config, paths, keep, every=every)
    if found.paths:
        # Local wins where both changed, as push --force does: a move or delete made here included.
        report = await Engine(config, client, progress=progress).run(RunOptions(
            mode=Mode.SYNC, paths=tuple(found.paths), keep=keep, force=keep != Keep.REMOTE, dry_run=dry_run))
    else:
        report = Report("resolve", dry_run=dry_run)
    report.outcomes[:0] = found.refused
    report.notes.extend(found.notes)
    if not dry_run and not report.problems:
        report.notes.extend(_stale_copies_removed(config, found.paths, report))
    return report


def targets(config: Config, paths: Sequence[str], keep: Keep, *, every: bool = False) -> Targets:
    """The tracked files named (a copy ``NAME.remote.md`` names its file), those with a copy
    under a folder named, or every file with a copy; files with markers left are refused."""
    tracked = State.load(config.state_dir).files  # read only: the run itself takes the lock
    by_copy = {conflict_copy(path): path for path in tracked if not path.endswith("/")}
    result = Targets()
    chosen: list[str] = []
    for path in paths:
        if path in by_copy:
            chosen.append(by_copy[path])
        elif path.endswith("/") or not path:
            chosen.extend(_with_copies(config, by_copy, path))
        elif path in tracked:
            chosen.append(path)
        else:
            raise UsageError(f"{path} is not a file mdsync syncs, so it has no conflict to resolve: name a file "
                             "that `mdsync sync` reported as a conflict.")
    if every:
        chosen.extend(_with_copies(config, by_copy, ""))
    if (every or any(path.endswith("/") or not path for path in paths)) and not chosen:
        result.notes.append("No file has Confluence's version beside it (NAME.remote.md): nothing to resolve.")
    for path in dict.fromkeys(chosen):
        line = _marker_line(config, path) if keep != Keep.REMOTE else None
        if line is None:
            result.paths.append(path)
            continue
        result.refused.append(Outcome(
            ActionKind.CONFLICT, path, Status.CONFLICT,
            f"not resolved: line {line} is still a conflict marker (<<<<<<<, ======= or >>>>>>>); settle the "
            f"markers, then run `mdsync resolve {command_path(config.docs, path)}` again, or `--keep remote` to "
            "take Confluence's version"))
    return result


def _with_copies(config: Config, by_copy: dict[str, str], folder: str) -> list[str]:
    """The tracked files under ``folder`` (docs-relative, "" for all) with a copy beside them."""
    found = []
    for copy, path in sorted(by_copy.items()):
        if copy.startswith(folder) and _is_file(config, copy):
            found.append(path)
    return found


def _marker_line(config: Config, path: str) -> int | None:
    """The first conflict marker line of a file (None: settled, or the file is gone)."""
    try:
        file = docs_file(config.docs, path)
        text = file.read_text(encoding="utf-8", errors="replace") if file.is_file() else ""
    except (OSError, OutsideDocs):
        return None  # the run says what is wrong with it
    return first_marker_line(text)


def _stale_copies_removed(config: Config, paths: Sequence[str], report: Report) -> list[str]:
    """Copies left beside files the run settled without writing them (already in step): gone."""
    unsettled = {outcome.path for outcome in report.outcomes if outcome.status in (Status.FAILED, Status.CONFLICT,
                                                                                     Status.SKIPPED)}
    notes = []
    for path in paths:
        copy = conflict_copy(path)
        if path not in unsettled and _is_file(config, copy):
            os.unlink(docs_file(config.docs, copy))
            notes.append(f"{path} was already in step with Confluence: removed {copy}.")
    return notes


def _is_file(config: Config, path: str) -> bool:
    try:
        return docs_file(config.docs, path).is_file()
    except OutsideDocs:
        return False
