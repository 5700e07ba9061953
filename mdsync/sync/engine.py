"""The sync engine: reads both sides, asks the planner, carries out the plan.

One listing of the space gives every page's title, parent and version (about one request
per 250 pages); bodies are fetched only for pages whose version changed. Markdown is
converted only for files whose hash changed, and a page is written only when its storage
differs (canonically) from what was last synced. Each finished remote action is recorded
in the state at once, so a run killed at any point and run again converges.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from mdsync.config import Config
from mdsync.confluence.client import ConfluenceClient
from mdsync.confluence.errors import NotFound, PermissionDenied
from mdsync.confluence.models import Page
from mdsync.convert import LinkTarget, carry, convert_markdown
from mdsync.convert.files import heading_anchors, read_markdown
from mdsync.convert.frontmatter import FrontMatter, join_front_matter, split_front_matter, with_updates
from mdsync.convert.markdown_text import escape_heading
from mdsync.convert.reapply import reapply
from mdsync.convert.to_markdown import convert_storage
from mdsync.convert.to_storage import first_heading
from mdsync.errors import ConflictError, MdsyncError
from mdsync.storage.canonical import storage_digest
from mdsync.sync import plan as planner
from mdsync.sync.merge import has_conflict_markers, merge_markdown
from mdsync.sync.report import Outcome, Report
from mdsync.sync.state import AttachmentState, FileState, State, atomic_write
from mdsync.sync.tree import LocalDoc, file_hash, scan
from mdsync.vocabulary import Mode

FOLDER_BODY = '<ac:structured-macro ac:name="children" />'
SOURCE_MESSAGE = re.compile(r"^mdsync: (.+)$")


@dataclass(frozen=True)
class Pulled:
    """A page as a pull reads it: the page, its Markdown and what the Markdown's markers refer to."""

    page: Page
    markdown: str
    payloads: dict[str, carry.Carried]
    attachments: tuple[str, ...]


@dataclass(frozen=True)
class RunOptions:
    mode: Mode = Mode.SYNC
    dry_run: bool = False
    force: bool = False
    delete: str | None = None
    on_conflict: str | None = None
    paths: tuple[str, ...] = ()
    resync: bool = False
    check: bool = False  # change nothing; out of step -> exit 4
    status: bool = False  # change nothing; report each file's state
    isolate_problems: bool = False  # a title clash skips the files at fault instead of stopping (watch)


@dataclass
class FileInfo:
    """What a file says about its page before any conversion."""

    title: str
    title_source: str
    kind: str
    page_id: str | None
    text: str | None
    # What the text's kept regions refer to, once a conversion has looked it up.
    payloads: dict[str, carry.Carried] = field(default_factory=dict)


class Progress(Protocol):
    """Told how many actions a run will carry out, then each outcome as it lands."""

    def start(self, total: int) -> None: ...

    def advance(self, outcome: Outcome) -> None: ...


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
        self._site_changed = False
        self.state = State.load(config.state_dir)
        self.root = config.docs
        self._pending_kept: dict[str, dict[str, carry.Carried]] = {}  # agreed files' payloads, until recorded

    # -- the run ------------------------------------------------------------------------------------

    async def run(self, options: RunOptions) -> Report:
        with self.state.lock():
            try:
                return await self._run(options)
            finally:
                if self.state.journal_path.exists():
                    self.state.save()  # fold this run's journal (or a killed run's) into state.json

    async def _run(self, options: RunOptions) -> Report:
        report = Report("status" if options.status else options.mode, dry_run=options.dry_run, check=options.check)
        if not self.root.is_dir():
            raise MdsyncError(f"The docs folder {self.root} does not exist: create it or set 'docs' in mdsync.yaml.")
        # The files are read (in a thread) while Confluence answers: neither waits for the other.
        reading = asyncio.create_task(asyncio.to_thread(self._read_local))
        try:
            await self._read_remote()
        except BaseException:
            await asyncio.gather(reading, return_exceptions=True)  # Confluence's error is the one to show
            raise
        local, unreadable = await reading
        if any(entry.kind == "blogpost" for entry in self.state.files.values()) or \
                any(info.kind == "blogpost" for info in self.infos.values()):
            for post in await self.client.blog_posts(self.space.id):
                self.remote[post.id] = post
        if options.resync:
            await self._resync(local)
        read_only = options.dry_run or options.check or options.status
        remote = {page.id: planner.Remote(page.id, page.title, page.parent_id, page.version.number, page.type,
                                          _source(page)) for page in self.remote.values()}
        moves = [] if options.mode == "push" or options.paths else \
            planner.folder_moves(local, remote, self.state.files, root_id=self.root_page.id)
        for move in moves:
            if not read_only:
                await asyncio.to_thread(self._move_folder, move, remote[self.state.files[move.page_path].page_id])
            report.outcomes.append(Outcome("move_folder", move.folder + "/", "planned" if read_only else "done",
                                           "moved in Confluence", new_path=move.new_folder + "/"))
        if moves and not read_only:
            local, unreadable = await asyncio.to_thread(self._read_local)  # the plan sees the new layout
        agreed = {} if options.resync else await self._agreements(planner.selector(options.paths))
        plan_options = planner.Options(
            mode=options.mode,
            on_conflict=options.on_conflict or self.config.sync.on_conflict,  # type: ignore[arg-type]
            delete=options.delete or self.config.sync.delete,  # type: ignore[arg-type]
            max_delete_share=self.config.sync.max_delete_share,
            max_delete_count=self.config.sync.max_delete_count,
            force=options.force,
            only=options.paths,
            isolate_problems=options.isolate_problems,
        )
        files = {**self.state.files, **{path: entry for path, (entry, _, _) in agreed.items()}}
        self.plan = planner.plan(local, remote, files, root_id=self.root_page.id, options=plan_options,
                                 outside_titles=self.outside, unreadable={outcome.path for outcome in unreadable})
        report.problems.extend(self.plan.problems)
        report.outcomes.extend(unreadable)
        if self.plan.problems:
            return report
        for path, (entry, text, storage) in sorted(agreed.items()):
            if not read_only:
                await asyncio.to_thread(self.state.record, path, entry, base=text, storage=storage,
                                        kept=self._pending_kept.pop(path, None))
            report.outcomes.append(Outcome("agree", path, "planned" if read_only else "done",
                                           "already the same here and in Confluence", entry.page_id))
        if read_only:
            for action in self.plan.actions:
                report.outcomes.append(await self._describe(action, with_diff=options.dry_run))
            return report
        if self.plan.of("create"):
            await self._check_may_add_pages()
        if self._site_changed:
            self.state.save()
        await self._execute(report)
        return report

    async def _check_may_add_pages(self) -> None:
        """One request before the first create, rather than a failure per page."""
        if "may_add_pages" not in self.site_cache:
            self.site_cache["may_add_pages"] = ("create", "page") in await self.client.space_operations(self.space.id)
        if not self.site_cache["may_add_pages"]:
            self.site_cache.pop("may_add_pages")  # ask again next time: an admin may grant it meanwhile
            raise PermissionDenied(f"Your account may not add pages to space {self.space.key}: ask a space admin for "
                                   "the 'Add pages' permission, or set another space in mdsync.yaml.", 403)

    def _read_local(self) -> tuple[dict[str, planner.Local], list[Outcome]]:
        self.docs = scan(self.root, self.config.include, self.config.exclude)
        self.infos: dict[str, FileInfo] = {}
        unreadable: list[Outcome] = []
        local: dict[str, planner.Local] = {}
        for path, doc in self.docs.items():
            try:
                info = self._info(doc)
            except MdsyncError as error:
                unreadable.append(Outcome("skip", path, "failed", error.message))
                continue
            self.infos[path] = info
            local[path] = planner.Local(path, doc.parent, doc.md_hash, info.title, info.page_id, info.kind)
        return local, unreadable

    async def _read_remote(self) -> None:
        await self.client.open()
        if "space" not in self.site_cache:
            self.space = await self.client.space(self.config.space)
            self.site_cache.update(space=self.space, root_page=await self._root_page())
        self.space, self.root_page = self.site_cache["space"], self.site_cache["root_page"]
        self._remember_site()
        listing = await self.client.pages_in_space(self.space.id)
        if self.root_page.id not in {page.id for page in listing}:
            self.site_cache.clear()
            raise MdsyncError(f"The page that holds the tree ({self.root_page.title}, id {self.root_page.id}) is no "
                              "longer in the space: restore it, or set 'parent' in mdsync.yaml.")
        self.remote = self._tree(listing)
        self.outside = {page.title.lower(): page.id for page in listing if page.id not in self.remote}

    def _move_folder(self, move: planner.FolderMove, page: planner.Remote) -> None:
        """Carry a page's move in Confluence to its folder: the files move, then the state."""
        source, target = self.root / move.folder, self.root / move.new_folder
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            os.rename(source, target)
        if not move.page_path.startswith(move.folder + "/") and (self.root / move.page_path).is_file():
            os.rename(self.root / move.page_path, self.root / move.new_path(move.page_path))
        for path in sorted(path for path in self.state.files if move.moves(path)):
            new_path = move.new_path(path)
            self.state.rename(path, new_path)
            entry = self.state.files[new_path]
            attachments = {name: replace_path(item, move.new_path(item.path)) if move.moves(item.path) else item
                           for name, item in entry.attachments.items()}
            if new_path == move.new_path(move.page_path):
                entry = replace(entry, parent_id=page.parent_id)  # the page is where Confluence has it now
            if attachments != entry.attachments or entry is not self.state.files[new_path]:
                self.state.record(new_path, replace(entry, attachments=attachments))

    async def _agreements(self, selected: Callable[[str], bool]) -> dict[str, tuple[FileState, str, str]]:
        """Files changed here whose pages changed in Confluence to the very same thing.

        That is what a run killed after a write but before recording it leaves behind (a
        push's update, a pull's file), and what the same edit made on both sides looks like.
        Such a file is in step, not in conflict: the state learns so (entry, base, storage).
        """
        candidates = []
        for path, entry in self.state.files.items():
            doc, info, page = self.docs.get(path), self.infos.get(path), self.remote.get(entry.page_id)
            if doc is None or info is None or page is None or not doc.has_file or not selected(path):
                continue
            if doc.md_hash != entry.md_hash and page.version.number != entry.version and page.title == info.title:
                candidates.append(path)
        found: dict[str, tuple[FileState, str, str]] = {}

        async def check(path: str) -> None:
            entry = self.state.files[path]
            try:
                pulled = await self._fetch_markdown(entry.page_id, path, entry.kind)
                page = pulled.page
                if page.body is None:
                    return
                storage, converted, info = self._convert(path, remote_body=page.body)
                text = info.text or ""
                if storage_digest(storage) != storage_digest(page.body):
                    remote_text, _ = self._compose(path, pulled.markdown, page.title)
                    if self._restyled(path, remote_text, page.title) != text:
                        return
            except MdsyncError:
                return  # not provably the same: the plan treats it as changed on both sides
            self._pending_kept[path] = self._kept_for(path, text, info.payloads, pulled.payloads)
            found[path] = (replace(
                entry, title=page.title, parent_id=page.parent_id if entry.kind == "page" else None,
                version=page.version.number, md_hash=self.docs[path].md_hash, storage_hash=storage_digest(page.body),
                links=tuple(converted.links) if converted is not None else entry.links), text, page.body)

        await asyncio.gather(*(check(path) for path in candidates))
        return found

    async def _root_page(self) -> Page:
        parent = self.config.parent
        if parent is None:
            if self.space.homepage_id is None:
                raise MdsyncError(f"Space {self.space.key} has no home page: set 'parent' in mdsync.yaml.")
            return await self.client.get_page(self.space.homepage_id, body=False)
        if parent.isdigit():
            try:
                return await self.client.get_page(parent, body=False)
            except NotFound:
                raise MdsyncError(f"mdsync.yaml's parent page {parent} does not exist in Confluence (or cannot be "
                                  "seen): check the id.") from None
        found = await self.client.find_page(self.space.id, parent)
        if found is None:
            raise MdsyncError(f"There is no page titled '{parent}' in space {self.space.key} to hold the tree: "
                              "create it, or fix 'parent' in mdsync.yaml.")
        return found

    def _remember_site(self) -> None:
        site = {"space": self.space.key, "space_id": self.space.id, "root_page_id": self.root_page.id,
                "url": self.config.confluence.url}
        if self.client.cloud_id:
            site["cloud_id"] = self.client.cloud_id
        if self.state.site.get("root_page_id") not in (None, self.root_page.id) or \
                self.state.site.get("space_id") not in (None, self.space.id):
            raise MdsyncError("The state in .mdsync was made for another space or parent page: run 'mdsync sync "
                              "--resync' to rebuild it for this one.")
        if site != self.state.site:
            self.state.site = site  # saved once something is written: a dry run leaves .mdsync alone
            self._site_changed = True

    def _tree(self, pages: list[Page]) -> dict[str, Page]:
        children: dict[str | None, list[Page]] = {}
        for page in pages:
            children.setdefault(page.parent_id, []).append(page)
        tree: dict[str, Page] = {}
        pending = list(children.get(self.root_page.id, []))
        while pending:
            page = pending.pop()
            tree[page.id] = page
            pending.extend(children.get(page.id, []))
        return tree

    # -- reading files ------------------------------------------------------------------------------

    def _text(self, path: str) -> str:
        return read_markdown(self.root / path, path)

    def _info(self, doc: LocalDoc) -> FileInfo:
        entry = self.state.files.get(doc.path)
        if not doc.has_file:  # a folder page keeps the title its page has
            title = entry.title if entry is not None else posixpath.basename(doc.path.rstrip("/"))
            return FileInfo(title, "folder", "page", None, None)
        if entry is not None and entry.md_hash == doc.md_hash:
            return FileInfo(entry.title, entry.title_source, entry.kind, None, None)
        text = self._text(doc.path)
        front, body = split_front_matter(text)
        if front.title:
            title, source = front.title, "front_matter"
        else:
            heading, first = first_heading(body)
            if heading:
                # An opening H1 is the title and leaves the body; a later one stays in it.
                title, source = heading, "heading" if first else "heading_kept"
            elif doc.folder is not None:
                title, source = posixpath.basename(doc.folder), "folder"
            else:
                title, source = posixpath.splitext(posixpath.basename(doc.path))[0], "filename"
        return FileInfo(title, source, front.type, front.page_id, text)

    # -- executing -----------------------------------------------------------------------------------

    async def _execute(self, report: Report) -> None:
        failed_parents: set[str] = set()
        phases: list[list[planner.Action]] = []
        current_key: tuple[int, int] | None = None
        for action in self.plan.actions:
            # One phase per kind; trashing goes children first, depth by depth.
            depth = -action.path.rstrip("/").count("/") if action.kind == "trash" else 0
            key = (planner.order(action), depth)
            if key != current_key:
                phases.append([])
                current_key = key
            phases[-1].append(action)
        # A few more actions under way than requests in flight: each converts its file while the
        # others wait on the network, instead of every conversion of a phase running up front.
        gate = asyncio.Semaphore(2 * self.config.sync.concurrency)
        self.progress.start(sum(1 for action in self.plan.actions if action.kind != "noop"))

        async def one(action: planner.Action, finished: dict[str, asyncio.Event]) -> Outcome:
            # A page is created under its parent, so it waits for that parent (if this phase
            # makes it) rather than for the whole level above: children start as soon as they can.
            parent_done = finished.get(action.parent) if action.parent else None
            if parent_done is not None:
                await parent_done.wait()
            try:
                async with gate:
                    outcome = await self._guarded(action, failed_parents)
                if outcome.status in ("failed", "skipped"):
                    failed_parents.add(outcome.path)
            finally:
                if action.path in finished:
                    finished[action.path].set()
            self.progress.advance(outcome)
            return outcome

        for phase in phases:
            finished = {action.path: asyncio.Event() for action in phase} \
                if phase[0].kind in ("create", "adopt", "new_file") else {}
            report.outcomes.extend(await asyncio.gather(*(one(action, finished) for action in phase)))

    async def _guarded(self, action: planner.Action, failed_parents: set[str]) -> Outcome:
        if action.parent and action.parent in failed_parents:
            return Outcome(action.kind, action.path, "skipped", f"its parent {action.parent} failed")
        try:
            outcome = await getattr(self, f"_do_{action.kind}")(action)
        except (MdsyncError, OSError) as error:
            message = error.message if isinstance(error, MdsyncError) else f"{error.strerror}: {error.filename}"
            outcome = Outcome(action.kind, action.path, "failed", message, action.page_id)
        outcome.changes = action.changes
        return outcome

    def _page_id(self, path: str | None) -> str:
        if path is None:
            return self.root_page.id
        entry = self.state.files.get(path)
        if entry is None:
            raise MdsyncError(f"The parent page for {path} does not exist yet.")
        return entry.page_id

    # -- push side ------------------------------------------------------------------------------------

    def _convert(self, path: str, *, remote_body: str | None = None) -> tuple[str, Any, FileInfo]:
        """A file's storage as a push writes it: converted, with what Markdown cannot say taken back
        from the page as last synced (or, given, as Confluence has it now)."""
        info = self.infos[path]
        if not path.endswith("/"):
            text = info.text if info.text is not None else self._text(path)
            info.text = text
            if has_conflict_markers(text):
                raise MdsyncError(f"{path} still has merge conflict markers (<<<<<<<): settle them, then push.")
            previous = remote_body if remote_body is not None else self.state.storage(path)
            info.payloads = self._payloads(path, text, remote_body)
            converted = convert_markdown(text, path=path, resolve_link=self._resolve_link,
                                         resolve_image=self._resolve_image,
                                         title_from_heading=info.title_source in ("heading", "heading_kept"),
                                         payloads=info.payloads)
            return reapply(converted.storage, previous), converted, info
        return FOLDER_BODY, None, info

    def _payloads(self, path: str, text: str, remote_body: str | None = None) -> dict[str, carry.Carried]:
        """What the file's carried regions refer to: kept with the state; else what the page as last
        synced or as Confluence has it now holds; else another file's (a region copied over)."""
        wanted = carry.refs_in(text)
        found = self.state.kept(path)
        for storage in (self.state.storage(path), remote_body):
            if wanted <= found.keys():
                return found
            if storage:
                found.update(self._derived_payloads(path, storage))
        missing = wanted - found.keys()
        for other in self.state.files if missing else ():
            if other != path:
                found.update({ref: item for ref, item in self.state.kept(other).items() if ref in missing})
        return found

    def _derived_payloads(self, path: str, storage: str) -> dict[str, carry.Carried]:
        try:
            return convert_storage(storage, resolve_page=self._page_link(path),
                                   resolve_attachment=self._attachment_link(path), keep_payloads=True).payloads
        except MdsyncError:
            return {}

    def _kept_for(self, path: str, text: str, *more: dict[str, carry.Carried]) -> dict[str, carry.Carried]:
        """The payloads to keep for a file: those its text refers to, from what is known of them."""
        wanted = carry.refs_in(text)
        known = {**self.state.kept(path)}
        for payloads in more:
            known.update(payloads)
        return {ref: known[ref] for ref in wanted if ref in known}

    def _resolve_link(self, target: str, fragment: str | None) -> LinkTarget | None:
        doc = self.docs.get(target) or next((doc for doc in self.docs.values() if doc.folder == target.rstrip("/")),
                                            None)
        if doc is not None and doc.path in self.infos:
            anchor, missing = None, False
            if fragment and doc.has_file:
                anchors = self._anchors(doc.path)
                anchor, missing = anchors.get(fragment.lower(), fragment), fragment.lower() not in anchors
            elif fragment:
                anchor = fragment
            return LinkTarget("page", title=self.infos[doc.path].title, anchor=anchor, anchor_missing=missing)
        file = self.root / target
        if file.is_file() and not target.lower().endswith(".md"):
            return LinkTarget("attachment", path=target)
        return None

    def _resolve_image(self, target: str) -> LinkTarget | None:
        return LinkTarget("attachment", path=target) if (self.root / target).is_file() else None

    def _anchors(self, path: str) -> dict[str, str]:
        cache = self.__dict__.setdefault("_anchor_cache", {})
        if path not in cache:
            info = self.infos[path]
            text = info.text if info.text is not None else self._text(path)
            cache[path] = heading_anchors(split_front_matter(text)[1])
        return cache[path]

    async def _publish(self, action: planner.Action, path: str, page: Page | None) -> Outcome:
        """Create or update the page for ``path`` and everything that hangs on it."""
        if page is not None and not self.docs[path].has_file:
            return await self._keep_folder_page(action, path, page)
        storage, converted, info = self._convert(path)
        if converted is not None and converted.unresolved and page is not None:
            # The file refers to what the page held and the state does not have (a fresh clone
            # without .mdsync): the page itself still has it.
            live = (await self.client.get_page(page.id, kind=page.type)).body
            storage, converted, info = self._convert(path, remote_body=live)
        digest = storage_digest(storage)
        parent_id = self._page_id(self.docs[path].parent)
        entry = self.state.files.get(path)
        changed_body = entry is None or entry.storage_hash != digest
        if page is None:
            existing = await self._adoptable(info.title, parent_id, storage)
            if existing is not None:
                page, wrote = existing, "adopted"
            else:
                page = await self.client.create_page(self.space.id, info.title, storage, parent_id, kind=info.kind)
                wrote = "created"
        elif changed_body or page.title != info.title or page.parent_id != parent_id or \
                (entry is not None and page.version.number != entry.version):  # --force over a Confluence edit
            page = await self.client.update_page(page, title=info.title, body=storage, message=f"mdsync: {path}",
                                                 parent_id=parent_id)
            wrote = "updated"
        else:
            wrote = "unchanged"
        attachments = await self._sync_attachments(page.id, path, converted, entry)
        labels = await self._sync_labels(page.id, converted, entry)
        await asyncio.to_thread(self.state.record, path, FileState(
            page_id=page.id, title=info.title, parent_id=parent_id if info.kind == "page" else None,
            version=page.version.number, md_hash=self.docs[path].md_hash, storage_hash=digest, kind=info.kind,
            title_source=info.title_source, attachments=attachments, labels=labels,
            links=tuple(converted.links) if converted is not None else ()), base=info.text, storage=storage,
            kept=self._kept_for(path, info.text, info.payloads) if info.text is not None else None)
        _remove_conflict_copy(self.root, path)
        warnings = "; ".join(str(warning) for warning in converted.warnings) if converted is not None else ""
        return Outcome(action.kind, path, "done", f"{wrote}{' (' + warnings + ')' if warnings else ''}", page.id)

    async def _keep_folder_page(self, action: planner.Action, path: str, page: Page) -> Outcome:
        """A folder with no index file stands for its page as the page is: its title and body
        stay (they may be what a deleted index.md held); only a move is carried out."""
        parent_id = self._page_id(self.docs[path].parent)
        entry = self.state.files.get(path)
        storage_hash = entry.storage_hash if entry is not None else ""
        wrote = "unchanged"
        if page.parent_id != parent_id:
            full = await self.client.get_page(page.id, kind=page.type)
            page = await self.client.update_page(full, title=full.title, body=full.body or "",
                                                 message=f"mdsync: {path}", parent_id=parent_id)
            storage_hash, wrote = storage_digest(full.body or ""), "moved"
        await asyncio.to_thread(self.state.record, path, FileState(
            page_id=page.id, title=page.title, parent_id=parent_id, version=page.version.number, md_hash=None,
            storage_hash=storage_hash, kind="page", title_source="folder"))
        return Outcome(action.kind, path, "done", f"{wrote} (the folder keeps its page as it is)", page.id)

    async def _adoptable(self, title: str, parent_id: str, storage: str) -> Page | None:
        """A page this file's earlier run created but never recorded: same title, parent and body."""
        for page in self.remote.values():
            if page.title.lower() == title.lower() and page.parent_id == parent_id and \
                    page.id not in self.state.by_page():
                full = await self.client.get_page(page.id, kind=page.type)
                if full.body is not None and storage_digest(full.body) == storage_digest(storage):
                    return full
                raise MdsyncError(f"A page titled '{title}' already exists under the same parent in Confluence "
                                  "and was not made from this file: rename one of them, or run 'mdsync sync "
                                  "--resync' to link them.")
        return None

    async def _sync_attachments(self, page_id: str, path: str, converted: Any,
                                entry: FileState | None) -> dict[str, AttachmentState]:
        known = dict(entry.attachments) if entry is not None else {}
        result: dict[str, AttachmentState] = {}
        refs = list(converted.attachments) if converted is not None else []
        remote_files: dict[str, Any] | None = None
        for ref in refs:
            file = self.root / ref.path
            try:
                data = file.read_bytes()
            except OSError:
                continue  # reported by the converter's warnings; nothing to upload
            digest = file_hash(data)
            previous = known.get(ref.filename)
            if previous is not None and previous.hash == digest:
                result[ref.filename] = replace_path(previous, ref.path)
                continue
            if remote_files is None:
                remote_files = {item.title: item for item in await self.client.attachments(page_id)}
            existing = remote_files.get(ref.filename)
            media = _media_type(ref.filename)
            uploaded = await self.client.upload_attachment(page_id, ref.filename, data, media_type=media,
                                                           existing=existing)
            result[ref.filename] = AttachmentState(uploaded.id, digest, uploaded.version, ref.path)
        return result

    async def _sync_labels(self, page_id: str, converted: Any, entry: FileState | None) -> tuple[str, ...]:
        if converted is None:
            return entry.labels if entry is not None else ()
        wanted = tuple(converted.labels)
        had = set(entry.labels) if entry is not None else set()
        added = [label for label in wanted if label not in had]
        if added:
            await self.client.add_labels(page_id, added)
        for label in had - set(wanted):
            await self.client.remove_label(page_id, label)
        return wanted

    async def _do_create(self, action: planner.Action) -> Outcome:
        return await self._publish(action, action.path, None)

    async def _do_adopt(self, action: planner.Action) -> Outcome:
        return await self._publish(action, action.path, await self.client.get_page(action.page_id or "", body=False))

    async def _do_update(self, action: planner.Action) -> Outcome:
        return await self._publish(action, action.path, self._remote_page(action))

    async def _do_move(self, action: planner.Action) -> Outcome:
        return await self._publish(action, action.path, self._remote_page(action))

    async def _do_rename(self, action: planner.Action) -> Outcome:
        assert action.new_path is not None
        self.state.rename(action.path, action.new_path)
        outcome = await self._publish(action, action.new_path, self._remote_page(action))
        outcome.new_path, outcome.path = action.new_path, action.path
        return outcome

    def _remote_page(self, action: planner.Action) -> Page:
        page = self.remote.get(action.page_id or "")
        if page is None:
            raise MdsyncError(f"The page for {action.path} is no longer in the tree in Confluence.")
        return page

    async def _do_trash(self, action: planner.Action) -> Outcome:
        entry = self.state.files[action.path]
        await self.client.delete_page(entry.page_id, kind=entry.kind)
        self.state.forget(action.path)
        return Outcome("trash", action.path, "done", "page moved to the trash", entry.page_id)

    async def _do_skip(self, action: planner.Action) -> Outcome:
        return Outcome("skip", action.path, "failed", action.reason)

    async def _do_keep(self, action: planner.Action) -> Outcome:
        return Outcome("keep", action.path, "reported", action.reason, action.page_id)

    async def _do_forget(self, action: planner.Action) -> Outcome:
        self.state.forget(action.path)
        return Outcome("forget", action.path, "done", action.reason, action.page_id)

    async def _do_noop(self, action: planner.Action) -> Outcome:
        entry = self.state.files.get(action.path)
        if entry is not None and entry.attachments and self._attachments_changed(entry):
            outcome = await self._publish(action, action.path, self._remote_page(action))
            outcome.action = "update"  # an attachment changed: the page is not in step after all
            return outcome
        return Outcome("noop", action.path, "done", "", action.page_id)

    def _attachments_changed(self, entry: FileState) -> bool:
        for attachment in entry.attachments.values():
            file = self.root / attachment.path
            if file.is_file() and file_hash(file.read_bytes()) != attachment.hash:
                return True
        return False

    async def _do_remote_only(self, action: planner.Action) -> Outcome:
        return Outcome(action.kind, action.path, "reported", action.reason, action.page_id)

    _do_local_only = _do_remote_only

    # -- pull side ------------------------------------------------------------------------------------

    async def _fetch_markdown(self, page_id: str, path: str, kind: str) -> Pulled:
        page = await self.client.get_page(page_id, kind=kind)
        back = convert_storage(page.body or "", resolve_page=self._page_link(path),
                               resolve_attachment=self._attachment_link(path), keep_payloads=True)
        return Pulled(page, back.markdown, back.payloads, back.attachments)

    def _page_link(self, path: str) -> Callable[[str, str | None, str | None], str | None]:
        paths = {info.title.lower(): other for other, info in self.infos.items()}
        for other, entry in self.state.files.items():
            paths.setdefault(entry.title.lower(), other)
        site = (self.config.confluence.url or "").rstrip("/")

        def resolve(title: str, space: str | None, anchor: str | None) -> str | None:
            if space in (None, self.space.key):
                target = paths.get(title.lower())
                if target is not None and not target.endswith("/"):
                    href = posixpath.relpath(target, posixpath.dirname(path) or ".")
                    if anchor:
                        slugs = {value: key for key, value in self._anchors(target).items()} \
                            if target in self.infos else {}
                        href += "#" + slugs.get(anchor, anchor)
                    return href
            key = space or self.space.key
            return f"{site}/wiki/display/{key}/{title.replace(' ', '+')}" if site else None

        return resolve

    def _attachment_link(self, path: str) -> Callable[[str, str | None], str | None]:
        entry = self.state.files.get(path)
        known = entry.attachments if entry is not None else {}
        folder = posixpath.dirname(path)
        stem = posixpath.splitext(posixpath.basename(path.rstrip("/")))[0] or "page"

        def resolve(filename: str, owner: str | None) -> str | None:
            if owner:
                return None
            target = known[filename].path if filename in known else \
                posixpath.join(folder, f"{stem}.assets", filename)
            return posixpath.relpath(target, folder or ".")

        return resolve

    def _compose(self, path: str, markdown: str, title: str) -> tuple[str, str]:
        """The file's new text: Confluence's body under the file's own front matter and title."""
        entry = self.state.files.get(path)
        source = entry.title_source if entry is not None else "heading"
        file = self.root / path
        front = FrontMatter()
        if file.is_file():
            try:
                front, body = split_front_matter(self._text(path))
                # Keep the file's own spacing between its front matter and its body.
                markdown = body[: len(body) - len(body.lstrip("\n"))] + markdown if front.raw else markdown
            except MdsyncError:
                front = FrontMatter()
        if source == "front_matter" or front.title:
            return join_front_matter(with_updates(front, title=title), markdown), "front_matter"
        if source == "heading_kept":
            return join_front_matter(front, markdown), source
        if source in ("heading", "folder") or not file.exists():
            heading = f"# {escape_heading(title)}\n\n"
            if source == "folder" and title == posixpath.basename(posixpath.dirname(path)):
                return join_front_matter(front, markdown), "folder"
            return join_front_matter(front, heading + markdown), "heading"
        if title != posixpath.splitext(posixpath.basename(path))[0]:
            return join_front_matter(with_updates(front, title=title), markdown), "front_matter"
        return join_front_matter(front, markdown), "filename"

    def _restyled(self, path: str, remote_text: str, title: str) -> str:
        """Confluence's new text, in the file's own style where the page did not change.

        mdsync writes Markdown its own way (tables compact, one bullet style...). To keep a
        pull's diff to what changed in Confluence, the change is taken as a three-way merge:
        the last synced storage as mdsync would write it (base), the file as last synced
        (the user's style), and the new storage as mdsync writes it.
        """
        old_storage, user_base = self.state.storage(path), self.state.base(path)
        entry = self.state.files.get(path)
        if old_storage is None or user_base is None:
            return remote_text
        try:
            # The base carries the title as last synced, so a title changed in Confluence is a
            # change the merge takes in, not a line both sides agree on.
            old_text, _ = self._compose(path, convert_storage(old_storage, resolve_page=self._page_link(path),
                                                              resolve_attachment=self._attachment_link(path),
                                                              keep_payloads=True).markdown,
                                        entry.title if entry is not None else title)
        except MdsyncError:
            return remote_text
        merged = merge_markdown(old_text, user_base, remote_text)
        return remote_text if merged.conflicts else merged.text

    async def _write_pulled(self, path: str, pulled: Pulled, *, new_path: str | None = None,
                            kind: str = "page") -> Outcome:
        page = pulled.page
        entry = self.state.files.get(path)
        doc = self.docs.get(path)
        unchanged_here = doc is None or not doc.has_file or doc.md_hash == entry.md_hash if entry else False
        if entry is not None and new_path is None and unchanged_here and page.title == entry.title and \
                storage_digest(page.body or "") == entry.storage_hash:
            # A new version with the same body (a page status set, a re-save) of a file unchanged
            # here: the file stays as it is. (Changed here, Confluence's side is what is asked for.)
            await asyncio.to_thread(self.state.record, path, replace(
                entry, version=page.version.number, parent_id=page.parent_id if kind == "page" else None),
                storage=page.body or "", kept=self._kept_for(path, self._text(path), pulled.payloads)
                if (self.root / path).is_file() else None)
            return Outcome("pull", path, "done", "a new version in Confluence with nothing changed", page.id)
        target = new_path or path
        if path.endswith("/"):
            target = posixpath.join(path.rstrip("/"), "index.md")  # a folder page now needs a file
        text, source = self._compose(target if (self.root / target).exists() else path, pulled.markdown, page.title)
        if not path.endswith("/"):
            text = self._restyled(path, text, page.title)
        await asyncio.to_thread(atomic_write, self.root / target, text)
        attachments = await self._download_attachments(page, target, pulled.attachments)
        if target != path:
            self.state.rename(path, target)
            old = self.root / path
            if old.is_file() and old != self.root / target:
                old.unlink()
        await asyncio.to_thread(self.state.record, target, FileState(
            page_id=page.id, title=page.title, parent_id=page.parent_id if kind == "page" else None,
            version=page.version.number, md_hash=file_hash(text.encode("utf-8")),
            storage_hash=storage_digest(page.body or ""), kind=kind, title_source=source,
            attachments=attachments), base=text, storage=page.body or "",
            kept=self._kept_for(path, text, pulled.payloads))
        _remove_conflict_copy(self.root, target)
        return Outcome("pull", path, "done", "file updated from Confluence", page.id,
                       new_path=target if target != path else None)

    async def _download_attachments(self, page: Page, path: str, used: tuple[str, ...]) -> dict[str, AttachmentState]:
        entry = self.state.files.get(path)
        known = dict(entry.attachments) if entry is not None else {}
        if not used:
            return known
        result: dict[str, AttachmentState] = {}
        resolve = self._attachment_link(path)
        for attachment in await self.client.attachments(page.id, kind=page.type):
            if attachment.title not in used:
                continue
            previous = known.get(attachment.title)
            if previous is not None and previous.version == attachment.version:
                result[attachment.title] = previous
                continue
            relative = resolve(attachment.title, None) or attachment.title
            local = posixpath.normpath(posixpath.join(posixpath.dirname(path), relative))
            data = await self.client.download(attachment)
            atomic_write(self.root / local, data)
            result[attachment.title] = AttachmentState(attachment.id, file_hash(data), attachment.version, local)
        return result

    async def _do_pull(self, action: planner.Action) -> Outcome:
        entry = self.state.files[action.path]
        pulled = await self._fetch_markdown(entry.page_id, action.path, entry.kind)
        return await self._write_pulled(action.path, pulled, new_path=action.new_path, kind=entry.kind)

    async def _do_new_file(self, action: planner.Action) -> Outcome:
        page = self.remote[action.page_id or ""]
        self.infos[action.path] = FileInfo(page.title, "heading", page.type, page.id, None)
        pulled = await self._fetch_markdown(page.id, action.path, page.type)
        outcome = await self._write_pulled(action.path, pulled, kind=page.type)
        outcome.action = "new_file"
        return outcome

    async def _do_remove_file(self, action: planner.Action) -> Outcome:
        file = self.root / action.path
        if file.is_file():
            file.unlink()
        self.state.forget(action.path)
        return Outcome("remove_file", action.path, "done", "its page was deleted in Confluence", action.page_id)

    async def _do_merge(self, action: planner.Action) -> Outcome:
        entry = self.state.files[action.path]
        pulled = await self._fetch_markdown(entry.page_id, action.path, entry.kind)
        page = pulled.page
        remote_text, _ = self._compose(action.path, pulled.markdown, page.title)
        remote_text = self._restyled(action.path, remote_text, page.title)
        local_text = self._text(action.path)
        merged = merge_markdown(self.state.base(action.path) or "", local_text, remote_text)
        atomic_write(self.root / action.path, merged.text)
        kept = self._kept_for(action.path, merged.text, pulled.payloads)
        if merged.conflicts:
            # Confluence's side is now in the file (between markers): it counts as taken in, so
            # once the markers are settled the file is simply "changed here" and gets pushed.
            self.state.record(action.path, replace(entry, version=page.version.number,
                                                   storage_hash=storage_digest(page.body or ""),
                                                   md_hash=file_hash(remote_text.encode("utf-8"))), base=remote_text,
                              storage=page.body or "", kept=kept)
            return Outcome("merge", action.path, "conflict",
                           f"{merged.conflicts} part(s) changed on both sides: settle the <<<<<<< markers in the file, "
                           "then push or sync again", entry.page_id)
        # A clean merge: what Confluence has is now the base, and the merge is pushed on top.
        self.docs[action.path] = LocalDoc(action.path, self.docs[action.path].parent,
                                          file_hash(merged.text.encode("utf-8")), self.docs[action.path].folder)
        self.infos[action.path] = self._info(self.docs[action.path])
        self.state.record(action.path, FileState(
            page_id=page.id, title=page.title, parent_id=page.parent_id, version=page.version.number,
            md_hash=file_hash(remote_text.encode("utf-8")), storage_hash=storage_digest(page.body or ""),
            kind=entry.kind, title_source=entry.title_source, attachments=entry.attachments, labels=entry.labels,
            links=entry.links), base=remote_text, storage=page.body or "", kept=kept)
        outcome = await self._publish(action, action.path, page)
        outcome.message = "merged both sides and pushed the result"
        return outcome

    async def _do_conflict(self, action: planner.Action) -> Outcome:
        entry = self.state.files.get(action.path) or (self.state.files.get(action.new_path or "") if action.new_path
                                                      else None)
        message = f"{action.reason}: nothing was overwritten"
        if entry is not None and entry.page_id in self.remote and not action.path.endswith("/"):
            pulled = await self._fetch_markdown(entry.page_id, action.path, entry.kind)
            remote_text, _ = self._compose(action.path, pulled.markdown, pulled.page.title)
            # Beside the file as it is now (a renamed file's new place), never in a folder it left.
            here = action.path if (self.root / action.path).exists() or not action.new_path else action.new_path
            atomic_write(self.root / conflict_copy(here), remote_text)
            # What the copy's carried regions refer to is kept too, for what is taken over from it.
            if here in self.state.files:
                self.state.record(here, self.state.files[here], kept={
                    **self.state.kept(here), **self._kept_for(here, remote_text, pulled.payloads)})
            message += f"; Confluence's version is in {conflict_copy(here)}"
        return Outcome("conflict", action.path, "conflict", message, action.page_id)

    # -- describing (dry runs, status) -------------------------------------------------------------------

    async def _describe(self, action: planner.Action, *, with_diff: bool) -> Outcome:
        outcome = Outcome(action.kind, action.path, "planned", action.reason, action.page_id, action.new_path,
                          changes=action.changes)
        entry = self.state.files.get(action.path)
        if action.kind == "noop" and entry is not None and entry.attachments and self._attachments_changed(entry):
            outcome.action, outcome.message = "update", "an attachment changed"
        if not with_diff:
            return outcome
        try:
            if action.kind in ("update", "create", "rename", "move") and not action.path.endswith("/"):
                path = action.new_path or action.path
                old = self.state.base(action.path) or ""
                outcome.diff = _diff(old, self._text(path), f"{path} (last synced)", f"{path} (now)")
            elif action.kind in ("pull", "merge", "conflict") and action.page_id:
                entry = self.state.files[action.path]
                pulled = await self._fetch_markdown(entry.page_id, action.path, entry.kind)
                remote_text, _ = self._compose(action.path, pulled.markdown, pulled.page.title)
                outcome.diff = _diff(self._text(action.path) if (self.root / action.path).is_file() else "",
                                     remote_text, f"{action.path} (here)", f"{action.path} (Confluence)")
        except (MdsyncError, OSError, KeyError) as error:
            outcome.message = f"{outcome.message} (no diff: {error})".strip()
        return outcome

    # -- rebuilding the state --------------------------------------------------------------------------

    async def _resync(self, local: dict[str, planner.Local]) -> None:
        """Match files and pages by title; what agrees is recorded as synced, what differs as a conflict."""
        by_title = {page.title.lower(): page for page in self.remote.values()}
        self.state.files = {}
        for path, doc in sorted(local.items()):
            page = by_title.get(doc.title.lower())
            if page is None:
                self.state.drop_copies(path)  # an earlier state's copies would mislead the next push
                continue
            full = await self.client.get_page(page.id, kind=page.type)
            storage, converted, info = self._convert(path, remote_body=full.body or "")
            same = full.body is not None and storage_digest(full.body) == storage_digest(storage)
            self.state.files[path] = FileState(
                page_id=page.id, title=page.title, parent_id=page.parent_id, version=page.version.number if same else 0,
                md_hash=doc.md_hash if same else None, storage_hash=storage_digest(full.body or ""), kind=page.type,
                title_source=info.title_source)
            # The page as Confluence has it now is what a push takes back what Markdown cannot say from;
            # the file is the merge base only where the two agree (else the plan sees both sides changed).
            self.state.drop_copies(path)
            atomic_write(self.state.storage_path(path), full.body or "")
            if info.text is not None:
                self.state.write_kept(path, self._kept_for(path, info.text, info.payloads))
            if same and info.text is not None:
                atomic_write(self.state.base_path(path), info.text)
        self.state.save()


# -- helpers ---------------------------------------------------------------------------------------


def conflict_copy(path: str) -> str:
    """Where Confluence's side of a conflict is written: NAME.remote.md beside the file."""
    clean = path.rstrip("/")
    if path.endswith("/"):
        return posixpath.join(clean, "index.remote.md")
    return clean[: -len(".md")] + ".remote.md" if clean.endswith(".md") else clean + ".remote.md"


def _remove_conflict_copy(root: Path, path: str) -> None:
    """Once a file is back in step, Confluence's copy from an earlier conflict is stale."""
    copy = root / conflict_copy(path)
    if copy.is_file():
        copy.unlink()


def replace_path(attachment: AttachmentState, path: str) -> AttachmentState:
    return AttachmentState(attachment.id, attachment.hash, attachment.version, path)


def _source(page: Page) -> str | None:
    match = SOURCE_MESSAGE.match(page.version.message or "")
    return match.group(1) if match else None


def _media_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), old_name, new_name))


def conflict_error(report: Report) -> ConflictError | None:
    if report.conflicts:
        return ConflictError(f"{len(report.conflicts)} file(s) changed on both sides; nothing was overwritten.")
    return None


__all__ = ["Engine", "Outcome", "Report", "RunOptions", "conflict_copy"]
