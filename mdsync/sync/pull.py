"""Carrying out the plan's writes to the docs folder: files from pages, merges, conflicts.

Nothing is written outside the docs root (every path passes ``names.docs_file`` first, symbolic
links followed); every file is written whole (atomically) and recorded in the state as soon
as it is written, with the page it came from.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import replace

from mdsync.confluence.errors import NotFound
from mdsync.confluence.models import Page
from mdsync.convert.frontmatter import (
    join_front_matter,
    split_front_matter,
    with_updates,
)
from mdsync.docs import FileInfo, LocalDoc, conflict_copy, file_hash, title_of
from mdsync.storage.canonical import storage_digest
from mdsync.sync import plan as planner
from mdsync.sync import siblings
from mdsync.sync.context import Run
from mdsync.sync.files import (
    Pulled,
    attachment_link,
    command_path,
    compose,
    conflict_text,
    convert_for_push,
    fetch_markdown,
    kept_for,
    remove_conflict_copy,
    restyled,
)
from mdsync.sync.merge import merge_markdown
from mdsync.sync.moves import FolderMove
from mdsync.sync.names import OutsideDocs, docs_file, safe_file_name
from mdsync.sync.push import check_made_from_file, publish, resolved
from mdsync.sync.report import Outcome
from mdsync.sync.state import AttachmentState, FileState, atomic_write, on_writer
from mdsync.vocabulary import ActionKind, ContentKind, Mode, Status, TitleSource


async def write_pulled(run: Run, path: str, pulled: Pulled, *, new_path: str | None = None,
                       kind: str = "page") -> Outcome:
    """A page's new version into its file (at ``new_path`` if the page moved)."""
    page = pulled.page
    entry = run.state.files.get(path)
    written = pulled_text(run, path, pulled, new_path=new_path)
    if written is None:
        assert entry is not None
        await on_writer(run.state.record, path, replace(
            entry, version=page.version.number, parent_id=page.parent_id if kind == "page" else None),
            storage=page.body or "", kept=kept_for(run, path, run.text(path), pulled.payloads)
            if (run.root / path).is_file() else None)
        return Outcome(ActionKind.PULL, path, Status.DONE, "a new version in Confluence with nothing changed", page.id)
    target, text, source = written
    await on_writer(atomic_write, docs_file(run.root, target), text)
    attachments, unwritten = await download_attachments(run, page, target, pulled.attachments)
    if target != path:
        run.state.rename(path, target)
        old = docs_file(run.root, path)
        if old.is_file() and old != run.root / target:
            old.unlink()
    await on_writer(run.state.record, target, FileState(
        page_id=page.id, title=page.title, parent_id=page.parent_id if kind == "page" else None,
        version=page.version.number, md_hash=file_hash(text.encode("utf-8")),
        storage_hash=storage_digest(page.body or ""), kind=kind, title_source=source,
        attachments=attachments, order=entry.order if entry is not None else None,
        position=entry.position if entry is not None else page.position), base=text, storage=page.body or "",
        kept=kept_for(run, path, text, pulled.payloads))
    remove_conflict_copy(run.root, target)
    note = f" (not written, as they would land outside the docs folder: {', '.join(unwritten)})" if unwritten else ""
    return Outcome(ActionKind.PULL, path, Status.DONE, f"file updated from Confluence{note}", page.id,
                   new_path=target if target != path else None)


def pulled_text(run: Run, path: str, pulled: Pulled, *,
                new_path: str | None = None) -> tuple[str, str, TitleSource] | None:
    """What a pull writes for the page's new version: the file, its text and where its title
    lives; None when the file stays as it is. A dry run shows the very same."""
    page = pulled.page
    entry = run.state.files.get(path)
    doc = run.docs.get(path)
    unchanged_here = doc is None or not doc.has_file or doc.md_hash == entry.md_hash if entry else False
    if entry is not None and new_path is None and unchanged_here and page.title == entry.title and \
            storage_digest(page.body or "") == entry.storage_hash:
        # A new version with the same body (a page status set, a re-save) of a file unchanged
        # here: the file stays as it is. (Changed here, Confluence's side is what is asked for.)
        return None
    target = new_path or path
    if path.endswith("/"):
        target = posixpath.join(path.rstrip("/"), "index.md")  # a folder page now needs a file
    text, source = compose(run, target if (run.root / target).exists() else path, pulled.markdown, page.title)
    if not path.endswith("/"):
        text = restyled(run, path, text, page.title)
    return target, text, source


async def download_attachments(run: Run, page: Page, path: str,
                               used: tuple[str, ...]) -> tuple[dict[str, AttachmentState], list[str]]:
    """The attachments the page shows or links, downloaded where their version changed; and
    the names of those not written, as their place is outside the docs folder (a file shared
    through include_outside, or a path the state names there)."""
    entry = run.state.files.get(path)
    known = dict(entry.attachments) if entry is not None else {}
    if not used:
        return known, []
    result: dict[str, AttachmentState] = {}
    unwritten: list[str] = []
    resolve = attachment_link(run, path)
    for attachment in await run.client.attachments(page.id, kind=page.type):
        if attachment.title not in used:
            continue
        previous = known.get(attachment.title)
        if previous is not None and previous.version == attachment.version:
            result[attachment.title] = previous
            continue
        relative = resolve(attachment.title, None) or safe_file_name(attachment.title)
        local = posixpath.normpath(posixpath.join(posixpath.dirname(path), relative))
        try:
            file = docs_file(run.root, local)
        except OutsideDocs:
            unwritten.append(f"'{attachment.title}'")
            if previous is not None:
                result[attachment.title] = previous
            continue
        data = await run.client.download(attachment)
        atomic_write(file, data)
        result[attachment.title] = AttachmentState(attachment.id, file_hash(data), attachment.version, local)
    return result, unwritten


def move_folder(run: Run, move: FolderMove) -> None:
    """Carry a page's move in Confluence to its folder: the files move, then the state."""
    page = run.remote[run.state.files[move.page_path].page_id]
    source, target = docs_file(run.root, move.folder), docs_file(run.root, move.new_folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        os.rename(source, target)
    if not move.page_path.startswith(move.folder + "/") and (run.root / move.page_path).is_file():
        os.rename(docs_file(run.root, move.page_path), docs_file(run.root, move.new_path(move.page_path)))
    for path in sorted(path for path in run.state.files if move.moves(path)):
        new_path = move.new_path(path)
        run.state.rename(path, new_path)
        entry = run.state.files[new_path]
        attachments = {name: replace(item, path=move.new_path(item.path)) if move.moves(item.path) else item
                       for name, item in entry.attachments.items()}
        if new_path == move.new_path(move.page_path):
            entry = replace(entry, parent_id=page.parent_id)  # the page is where Confluence has it now
        if attachments != entry.attachments or entry is not run.state.files[new_path]:
            run.state.record(new_path, replace(entry, attachments=attachments))


# -- the executors ----------------------------------------------------------------------------


async def pull(run: Run, action: planner.Action) -> Outcome:
    entry = run.state.files[action.path]
    if entry.kind == ContentKind.FOLDER:
        return await _folder_changed(run, action, entry)
    pulled = await fetch_markdown(run, entry.page_id, action.path, entry.kind)
    outcome = await write_pulled(run, action.path, pulled, new_path=action.new_path, kind=entry.kind)
    return resolved(action, outcome) if run.options.keep is not None else outcome


async def _folder_changed(run: Run, action: planner.Action, entry: FileState) -> Outcome:
    """A folder renamed in Confluence keeps its directory's name (as a folder page does): the
    state learns the new title and version."""
    folder = run.remote[entry.page_id]
    await on_writer(run.state.record, action.path, replace(entry, title=folder.title, version=folder.version.number,
                                                           parent_id=folder.parent_id))
    return Outcome(ActionKind.PULL, action.path, Status.DONE, "the folder changed in Confluence; its directory "
                   "keeps its name", entry.page_id)


async def new_file(run: Run, action: planner.Action) -> Outcome:
    page = run.remote[action.page_id or ""]
    if page.type == ContentKind.FOLDER:
        await on_writer(docs_file(run.root, action.path).mkdir, parents=True, exist_ok=True)
        await on_writer(run.state.record, action.path, FileState(
            page_id=page.id, title=page.title, parent_id=page.parent_id, version=page.version.number, md_hash=None,
            storage_hash="", kind=ContentKind.FOLDER, title_source=TitleSource.FOLDER))
        return Outcome(ActionKind.NEW_FILE, action.path, Status.DONE, "a folder made in Confluence", page.id)
    run.infos[action.path] = FileInfo(page.title, TitleSource.HEADING, page.type, page.id, None)
    pulled = await fetch_markdown(run, page.id, action.path, page.type)
    outcome = await write_pulled(run, action.path, pulled, kind=page.type)
    outcome.action = ActionKind.NEW_FILE
    return outcome


async def link(run: Run, action: planner.Action) -> Outcome:
    """A new file and the page an earlier run made from it: tied together, nothing written.

    The page holds what the file converts to, or what a killed run sent for it; either way the
    file counts as changed here, so the next push brings the page (and its labels and
    attachments, which that run may not have reached) up to the file."""
    listed = run.remote[action.page_id or ""]
    if listed.type == ContentKind.FOLDER:
        await on_writer(run.state.record, action.path, FileState(
            page_id=listed.id, title=listed.title, parent_id=listed.parent_id, version=listed.version.number,
            md_hash=None, storage_hash="", kind=ContentKind.FOLDER, title_source=TitleSource.FOLDER))
        return Outcome(ActionKind.LINK, action.path, Status.DONE, "the folder an earlier run made", listed.id)
    page = await run.client.get_page(listed.id, kind=listed.type)
    _, _, info, digest = await convert_for_push(run, action.path)
    if action.needs_same_body:
        check_made_from_file(action, action.path, page, digest)
    await on_writer(run.state.record, action.path, FileState(
        page_id=page.id, title=page.title, parent_id=page.parent_id, version=page.version.number, md_hash="",
        storage_hash=storage_digest(page.body or ""), kind=page.type, title_source=info.title_source),
        storage=page.body or "")
    return Outcome(ActionKind.LINK, action.path, Status.DONE, f"{action.reason}: tied to it; push to bring it up "
                   "to the file", page.id)


async def remove_file(run: Run, action: planner.Action) -> Outcome:
    entry = run.state.files.get(action.path)
    if entry is not None:
        # The listing's word alone removes no file: the page itself is asked first.
        try:
            page = await run.client.get_page(entry.page_id, body=False, kind=entry.kind)
        except NotFound:
            page = None
        if page is not None and page.status in ("current", "archived", "draft"):
            return Outcome(ActionKind.REMOVE_FILE, action.path, Status.REPORTED,
                           "its page is not in the tree's listing but still exists in Confluence (moved out of the "
                           "tree, or hidden from you by a restriction): the file is kept", action.page_id)
    file = docs_file(run.root, action.path)
    if file.is_file():
        file.unlink()
    elif action.path.endswith("/") and file.is_dir() and not any(file.iterdir()):
        file.rmdir()  # a folder's directory, once its files have gone (they go first)
    run.state.forget(action.path)
    return Outcome(ActionKind.REMOVE_FILE, action.path, Status.DONE, "its page was deleted in Confluence",
                   action.page_id)


async def merge(run: Run, action: planner.Action) -> Outcome:
    """Both sides' changes in one file. Where they touch different lines: merged, and pushed
    back at once (a pull leaves the push to the next push or sync). Where they touch the same
    lines: between conflict markers in the file (on_conflict: merge), else the file stays as it
    is and Confluence's version goes beside it, as a conflict does."""
    entry = run.state.files[action.path]
    pulled = await fetch_markdown(run, entry.page_id, action.path, entry.kind)
    page = pulled.page
    remote_text, _ = compose(run, action.path, pulled.markdown, page.title)
    remote_text = restyled(run, action.path, remote_text, page.title)
    merged = merge_markdown(run.state.base(action.path) or "", run.text(action.path), remote_text)
    if merged.conflicts and not action.markers:
        copy = write_conflict_copy(run, action.path, action.path, pulled)
        return Outcome(ActionKind.CONFLICT, action.path, Status.CONFLICT,
                       f"{merged.conflicts} part(s) changed on both sides in the same lines: nothing was overwritten; "
                       f"{_merge_advice(run, action.path, copy)}", entry.page_id)
    atomic_write(docs_file(run.root, action.path), merged.text)
    kept = kept_for(run, action.path, merged.text, pulled.payloads)
    if merged.conflicts or run.options.mode == Mode.PULL:
        # Confluence's side is now in the file: it counts as taken in, so the file is simply
        # "changed here" and the next push or sync publishes it (once its markers are settled).
        run.state.record(action.path, replace(entry, version=page.version.number,
                                              storage_hash=storage_digest(page.body or ""),
                                              md_hash=file_hash(remote_text.encode("utf-8"))), base=remote_text,
                         storage=page.body or "", kept=kept)
        if not merged.conflicts:
            return Outcome(ActionKind.MERGE, action.path, Status.DONE, "merged Confluence's edit into the file; "
                           "push or sync to publish the result", entry.page_id)
        return Outcome(ActionKind.MERGE, action.path, Status.CONFLICT,
                       f"{merged.conflicts} part(s) changed on both sides: settle the <<<<<<< markers in "
                       f"{action.path}, then run `mdsync resolve {command_path(run.root, action.path)}`",
                       entry.page_id)
    # A clean merge: what Confluence has is now the base, and the merge is pushed on top.
    doc = run.docs[action.path]
    run.docs[action.path] = LocalDoc(action.path, doc.parent, file_hash(merged.text.encode("utf-8")), doc.folder)
    run.infos[action.path] = title_of(merged.text, run.docs[action.path])
    run.state.record(action.path, FileState(
        page_id=page.id, title=page.title, parent_id=page.parent_id, version=page.version.number,
        md_hash=file_hash(remote_text.encode("utf-8")), storage_hash=storage_digest(page.body or ""),
        kind=entry.kind, title_source=entry.title_source, attachments=entry.attachments, labels=entry.labels,
        links=entry.links, order=entry.order, position=entry.position), base=remote_text, storage=page.body or "", kept=kept)
    outcome = await publish(run, action, action.path, page)
    outcome.message = "merged both sides and pushed the result"
    return outcome


async def conflict(run: Run, action: planner.Action) -> Outcome:
    """Nothing is overwritten; Confluence's version goes beside the file for the user to compare."""
    entry = run.state.files.get(action.path) or (run.state.files.get(action.new_path or "") if action.new_path
                                                 else None)
    message = f"{action.reason}: nothing was overwritten"
    if entry is not None and (entry.page_id in run.remote or entry.page_id == run.root_id) and \
            not action.path.endswith("/"):
        pulled = await fetch_markdown(run, entry.page_id, action.path, entry.kind)
        # Beside the file as it is now (a renamed file's new place), never in a folder it left.
        here = action.path if (run.root / action.path).exists() or not action.new_path else action.new_path
        copy = write_conflict_copy(run, action.path, here, pulled)
        message += f"; {_merge_advice(run, here, copy)}" if action.resolvable else \
            f"; Confluence's version is in {copy}"
    return Outcome(ActionKind.CONFLICT, action.path, Status.CONFLICT, message, action.page_id)


def write_conflict_copy(run: Run, path: str, here: str, pulled: Pulled) -> str:
    """Confluence's version of ``path`` written beside the file at ``here``; the copy's name."""
    remote_text = conflict_text(run, path, pulled)
    copy = conflict_copy(here)
    atomic_write(docs_file(run.root, copy), remote_text)
    # What the copy's carried regions refer to is kept too, for what is taken over from it.
    if here in run.state.files:
        run.state.record(here, run.state.files[here], kept={
            **run.state.kept(here), **kept_for(run, here, remote_text, pulled.payloads)})
    return copy


def _merge_advice(run: Run, path: str, copy: str) -> str:
    return (f"Confluence's version is in {copy}; merge it into {path}, then run "
            f"`mdsync resolve {command_path(run.root, path)}` (`--keep local` or `--keep remote` takes one side "
            "as it is)")


async def pull_order(run: Run, action: planner.Action) -> Outcome:
    """The siblings were reordered in Confluence: each file whose place would not give that
    order gets it as front matter ``order:`` (1, 2, 3...); the others are left as they are.
    Only the order is taken in: a file also changed here stays changed here (its edit is not
    made the agreed version), and the file keeps its line endings and BOM."""
    rewritten = []
    for index, path in enumerate(action.order, 1):
        entry = run.state.files.get(path)
        try:
            file = docs_file(run.root, path)
        except OutsideDocs:
            continue  # a file whose link leads out of the docs folder is never written through
        if entry is None or not file.is_file():
            continue
        position = run.remote[entry.page_id].position if entry.page_id in run.remote else entry.position
        info = run.infos.get(path)
        if siblings.place_of(path, info.order if info is not None else entry.order) == index:
            await on_writer(run.state.update, path, position=position)
            continue
        raw = file.read_bytes()
        text = with_order(raw.decode("utf-8"), index)
        await on_writer(atomic_write, file, text)
        if file_hash(raw) == entry.md_hash:  # unchanged here: the new text is what is agreed
            await on_writer(run.state.record, path, replace(entry, md_hash=file_hash(text.encode("utf-8")),
                                                            order=index, position=position), base=text)
        else:
            await on_writer(run.state.update, path, order=index, position=position)
        rewritten.append(path)
    return Outcome(ActionKind.PULL_ORDER, action.path, Status.DONE,
                   f"reordered in Confluence: 'order:' written into {', '.join(rewritten)}" if rewritten
                   else "reordered in Confluence", action.page_id)


def with_order(text: str, order: int) -> str:
    """The file's text with front matter ``order:`` set, in the file's own line endings."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    crlf = "\r\n" in text
    front, body = split_front_matter(text[len(bom):].replace("\r\n", "\n"))
    updated = join_front_matter(with_updates(front, order=order), body)
    return bom + (updated.replace("\n", "\r\n") if crlf else updated)
