"""The sync engine: reads both sides, asks the planner, carries out the plan.

One listing of the space gives every page's title, parent and version (about one request
per 250 pages); bodies are fetched only for pages whose version changed. Markdown is
converted only for files whose hash changed, and a page is written only when its storage
differs (canonically) from what was last synced. Every decision is the planner's
(``plan.py``); the engine runs the plan's actions phase by phase, as many at once as the
configured concurrency allows, each through its executor (``push.py``, ``pull.py``). Each
finished action is recorded in the state at once, so a run killed at any point and run
again converges.
"""

from __future__ import annotations

import asyncio
import difflib
from typing import Any

from mdsync.config import Config
from mdsync.confluence.client import ConfluenceClient
from mdsync.confluence.errors import Unreachable
from mdsync.errors import ConfigError, MdsyncError, UsageError
from mdsync.sync import plan as planner
from mdsync.sync import pull, push, sides
from mdsync.sync.context import Executor, Progress, Run, RunOptions
from mdsync.sync.files import compose, fetch_markdown, restyled, start_conversions
from mdsync.sync.moves import folder_moves
from mdsync.sync.report import Outcome, Report
from mdsync.sync.sending import Sending
from mdsync.sync.state import State, after_queued_writes, on_writer
from mdsync.vocabulary import ActionKind, Mode, Status


async def _agree(run: Run, action: planner.Action) -> Outcome:
    agreement = run.agreed[action.path]
    await on_writer(run.state.record, action.path, agreement.entry, base=agreement.text,
                            storage=agreement.storage, kept=agreement.kept)
    return Outcome(action.kind, action.path, Status.DONE, action.reason, action.page_id)


async def _forget(run: Run, action: planner.Action) -> Outcome:
    run.state.forget(action.path)
    return Outcome(action.kind, action.path, Status.DONE, action.reason, action.page_id)


async def _report(run: Run, action: planner.Action) -> Outcome:
    """Nothing to write: the action says where the file stands (keep, remote_only, local_only)."""
    return Outcome(action.kind, action.path, Status.REPORTED, action.reason, action.page_id)


async def _skip(run: Run, action: planner.Action) -> Outcome:
    return Outcome(action.kind, action.path, Status.FAILED, action.reason)


async def _noop(run: Run, action: planner.Action) -> Outcome:
    return Outcome(action.kind, action.path, Status.DONE, "", action.page_id)


EXECUTORS: dict[ActionKind, Executor] = {
    ActionKind.AGREE: _agree,
    ActionKind.FORGET: _forget,
    ActionKind.CREATE: push.create,
    ActionKind.ADOPT: push.adopt,
    ActionKind.LINK: pull.link,
    ActionKind.RENAME: push.rename,
    ActionKind.MOVE: push.update,
    ActionKind.UPDATE: push.update,
    ActionKind.MERGE: pull.merge,
    ActionKind.PULL: pull.pull,
    ActionKind.NEW_FILE: pull.new_file,
    ActionKind.REMOVE_FILE: pull.remove_file,
    ActionKind.TRASH: push.trash,
    ActionKind.REORDER: push.reorder,
    ActionKind.PULL_ORDER: pull.pull_order,
    ActionKind.CONFLICT: pull.conflict,
    ActionKind.KEEP: _report,
    ActionKind.REMOTE_ONLY: _report,
    ActionKind.ARCHIVED: _report,
    ActionKind.LOCAL_ONLY: _report,
    ActionKind.SKIP: _skip,
    ActionKind.NOOP: _noop,
}

# Actions whose children, in the same phase, wait for them (a page is created under its parent; a
# file renamed into a moved folder waits for that folder's rename).
_PARENTS_FIRST = (ActionKind.CREATE, ActionKind.ADOPT, ActionKind.LINK, ActionKind.NEW_FILE, ActionKind.RENAME)
# What converts a file; a rename's inputs change when it runs (its copies move), so it is not
# converted in advance.
_PUBLISHING = (ActionKind.CREATE, ActionKind.ADOPT, ActionKind.MOVE, ActionKind.UPDATE)


def _check_paths_exist(run: Run) -> None:
    """A PATH that names nothing (a typo) is a usage error, not "nothing to do": in a hook or
    CI that would pass silently. A deleted file mdsync tracks still names its page."""
    for path in run.options.paths:
        bare = path.rstrip("/")
        if not bare or (run.root / bare).exists():
            continue
        if any(tracked == path or tracked.startswith(bare + "/") for tracked in run.state.files):
            continue
        raise UsageError(f"{run.root / bare} does not exist and mdsync tracks no file there: check the path.")


class _Silent:
    def start(self, total: int) -> None:
        pass

    def advance(self, outcome: Outcome) -> None:
        pass


class Engine:
    def __init__(self, config: Config, client: ConfluenceClient, *, progress: Progress | None = None,
                 site_cache: dict[str, Any] | None = None) -> None:
        self.config = config
        self.client = client
        # A long-lived caller (watch) keeps the space and root page between runs: two requests saved.
        self.site_cache = site_cache if site_cache is not None else {}
        self.progress: Progress = progress or _Silent()
        self.state = State(config.state_dir)  # loaded by run(), under the lock

    async def run(self, options: RunOptions) -> Report:
        # A resync never reads a broken state: it moves it aside and rebuilds from both sides.
        with State.opened(self.config.state_dir, rebuild=options.resync) as self.state:
            sending = Sending.load(self.config.state_dir)
            try:
                return await self._run(Run(self.config, self.client, self.state, options, self.site_cache, sending))
            finally:
                after_queued_writes()  # records still queued when the run was interrupted land first
                if self.state.journal_path.exists():
                    self.state.save()  # fold this run's journal (or a killed run's) into state.json
                if not options.read_only:
                    sending.save(self.state.files)

    async def _run(self, run: Run) -> Report:
        options = run.options
        report = Report("status" if options.status else "resolve" if options.keep else options.mode,
                        dry_run=options.dry_run, check=options.check,
                        notes=self.state.aside.notes)  # the same list: a copy moved aside later is noted too
        if not run.root.is_dir():
            raise ConfigError(f"The docs folder {run.root} does not exist: create it, or set 'docs' in mdsync.yaml.")
        _check_paths_exist(run)
        local, unreadable = await self._read_sides(run)
        if run.offline:
            report.unreached = True
            report.notes.append(f"{run.offline.removesuffix('.')}. Shown: what changed here since the last sync; "
                                "what changed in Confluence could not be asked.")
        sides.place_root_file(run, local)
        if options.resync:
            await sides.resync(run, local)
        moves = [] if options.mode == Mode.PUSH or options.paths else \
            folder_moves(local, sides.remote_for_planner(run), self.state.files, root_id=run.root_id)
        for move in moves:
            if not options.read_only:
                await asyncio.to_thread(pull.move_folder, run, move)
            report.outcomes.append(Outcome(ActionKind.MOVE_FOLDER, move.folder + "/",
                                           Status.PLANNED if options.read_only else Status.DONE,
                                           "moved in Confluence", new_path=move.new_folder + "/"))
        if moves and not options.read_only:
            local, unreadable = await asyncio.to_thread(sides.read_local, run)  # the plan sees the new layout
            sides.place_root_file(run, local)
        run.agreed = {} if options.resync else await sides.agreements(run, planner.selector(options.paths))
        run.plan = planner.plan(
            local, sides.remote_for_planner(run), self.state.files, root_id=run.root_id, options=self._options(run),
            outside_titles=run.outside, archived=run.archived.keys(), root=sides.root_for_planner(run),
            unreadable={outcome.path for outcome in unreadable},
            agreed={path: agreement.entry for path, agreement in run.agreed.items()},
            attachments_changed=sides.changed_attachments(run), sent=run.sending.pending)
        report.problems.extend(run.plan.problems)
        report.outcomes.extend(unreadable)
        if run.plan.problems:
            return report
        if options.read_only:
            for action in run.plan.actions:
                report.outcomes.append(await self._describe(run, action, with_diff=options.dry_run))
            return report
        if run.plan.of(ActionKind.CREATE):
            await push.check_may_add_pages(run)
        if run.site_changed:
            self.state.save()
        await self._execute(run, report)
        return report

    async def _read_sides(self, run: Run) -> tuple[dict[str, planner.Local], list[Outcome]]:
        # The files are read (in a thread) while Confluence answers: neither waits for the other.
        reading = asyncio.create_task(asyncio.to_thread(sides.read_local, run))
        try:
            await sides.read_remote(run)
        except Unreachable as error:
            # status shows what it can offline: the files against the state, Confluence as last synced.
            if not run.options.status or not sides.as_last_synced(run):
                await asyncio.gather(reading, return_exceptions=True)
                raise
            run.offline = str(error)
            return await reading
        except BaseException:
            await asyncio.gather(reading, return_exceptions=True)  # Confluence's error is the one to show
            raise
        local, unreadable = await reading
        await sides.read_blog_posts(run)
        return local, unreadable

    def _options(self, run: Run) -> planner.Options:
        options, settings = run.options, self.config.sync
        share, count = options.max_delete or (settings.max_delete_share, settings.max_delete_count)
        return planner.Options(
            mode=options.mode, on_conflict=options.on_conflict or settings.on_conflict,
            delete=options.delete or settings.delete, max_delete_share=share, max_delete_count=count,
            force=options.force, only=options.paths, keep=options.keep,
            # status shows every file where it stands: a title clash marks the files at fault only.
            isolate_problems=options.isolate_problems or options.status, root_file=run.root_file,
            root_file_allowed=sides.may_write_root(run), filenames=self.config.pull.filenames)

    async def _execute(self, run: Run, report: Report) -> None:
        failed_parents: set[str] = set()
        phases: list[list[planner.Action]] = []
        current_key: tuple[int, int] | None = None
        for action in run.plan.actions:
            # One phase per kind; trashing and removing go children first, depth by depth.
            depth = -action.path.rstrip("/").count("/") if action.kind in (ActionKind.TRASH, ActionKind.REMOVE_FILE) \
                else 0
            key = (planner.order(action), depth)
            if key != current_key:
                phases.append([])
                current_key = key
            phases[-1].append(action)
        # A few more actions under way than requests in flight: each converts its file while the
        # others wait on the network, instead of every conversion of a phase running up front.
        gate = asyncio.Semaphore(2 * self.config.sync.concurrency)
        self.progress.start(sum(1 for action in run.plan.actions if action.kind != ActionKind.NOOP))

        async def one(action: planner.Action, finished: dict[str, asyncio.Event]) -> Outcome:
            # A page is created under its parent, so it waits for that parent (if this phase
            # makes it) rather than for the whole level above: children start as soon as they can.
            parent_done = finished.get(action.parent) if action.parent else None
            if parent_done is not None:
                await parent_done.wait()
            try:
                async with gate:
                    outcome = await self._guarded(run, action, failed_parents)
                if outcome.status in (Status.FAILED, Status.SKIPPED):
                    failed_parents.add(outcome.path)
            finally:
                if (action.new_path or action.path) in finished:
                    finished[action.new_path or action.path].set()
            self.progress.advance(outcome)
            return outcome

        publishing = [action.path for action in run.plan.actions
                      if action.kind in _PUBLISHING and not action.path.endswith("/")]
        try:
            run.conversions = start_conversions(run, publishing) if publishing else None
            for phase in phases:
                finished = {action.new_path or action.path: asyncio.Event() for action in phase} \
                    if any(action.kind in _PARENTS_FIRST for action in phase) else {}
                report.outcomes.extend(await asyncio.gather(*(one(action, finished) for action in phase)))
        finally:
            if run.conversions is not None:
                await run.conversions.close()
                run.conversions = None

    async def _guarded(self, run: Run, action: planner.Action, failed_parents: set[str]) -> Outcome:
        if action.parent and action.parent in failed_parents:
            return Outcome(action.kind, action.path, Status.SKIPPED, f"its parent {action.parent} failed")
        try:
            outcome = await EXECUTORS[ActionKind(action.kind)](run, action)
        except (MdsyncError, OSError) as error:
            message = error.message if isinstance(error, MdsyncError) else f"{error.strerror}: {error.filename}"
            outcome = Outcome(action.kind, action.path, Status.FAILED, message, action.page_id)
        outcome.changes = action.changes
        return outcome

    async def _describe(self, run: Run, action: planner.Action, *, with_diff: bool) -> Outcome:
        """What an action would do (dry run, check, status), with the diff it would make."""
        outcome = Outcome(action.kind, action.path, Status.PLANNED, action.reason, action.page_id, action.new_path,
                          changes=action.changes)
        if not with_diff:
            return outcome
        try:
            if action.kind in (ActionKind.UPDATE, ActionKind.CREATE, ActionKind.RENAME, ActionKind.MOVE) and \
                    not action.path.endswith("/"):
                path = action.new_path or action.path
                old = self.state.base(action.path) or ""
                outcome.diff = _diff(old, run.text(path), f"{path} (last synced)", f"{path} (now)")
            elif action.kind == ActionKind.PULL and action.page_id:
                # Exactly what the pull would write (in the file's own style, as it writes it).
                entry = self.state.files[action.path]
                pulled = await fetch_markdown(run, entry.page_id, action.path, entry.kind)
                written = pull.pulled_text(run, action.path, pulled, new_path=action.new_path)
                target = written[0] if written else action.path
                here = run.text(target) if (run.root / target).is_file() else ""
                outcome.diff = _diff(here, written[1] if written else here, f"{target} (here)",
                                     f"{target} (after the pull)")
            elif action.kind in (ActionKind.MERGE, ActionKind.CONFLICT) and action.page_id:
                entry = self.state.files[action.path]
                pulled = await fetch_markdown(run, entry.page_id, action.path, entry.kind)
                remote_text, _ = compose(run, action.path, pulled.markdown, pulled.page.title)
                remote_text = restyled(run, action.path, remote_text, pulled.page.title)
                outcome.diff = _diff(run.text(action.path) if (run.root / action.path).is_file() else "",
                                     remote_text, f"{action.path} (here)", f"{action.path} (Confluence)")
        except (MdsyncError, OSError, KeyError) as error:
            outcome.message = f"{outcome.message} (no diff: {error})".strip()
        return outcome


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), old_name, new_name))


__all__ = ["Engine", "Outcome", "Report", "RunOptions"]
