"""Carrying out the plan's writes to Confluence: pages, their attachments and labels.

Each executor takes one action of the plan and returns its outcome; the state records
what landed as soon as it lands. What to write was decided by the planner; here only
what a write needs is worked out (the storage, which attachments changed).
"""

from __future__ import annotations

import mimetypes
from dataclasses import replace
from typing import Any

from mdsync.confluence.errors import PermissionDenied, TitleTaken
from mdsync.confluence.models import Page
from mdsync.docs import file_hash
from mdsync.errors import MdsyncError
from mdsync.storage.canonical import storage_digest
from mdsync.sync import plan as planner
from mdsync.sync import siblings
from mdsync.sync.context import Run
from mdsync.sync.files import (
    check_copy_current,
    convert_file,
    convert_for_push,
    kept_for,
    remove_conflict_copy,
)
from mdsync.sync.report import Outcome
from mdsync.sync.sending import Sent
from mdsync.sync.state import AttachmentState, FileState, on_writer
from mdsync.vocabulary import ActionKind, ContentKind, Status, TitleSource


async def check_may_add_pages(run: Run) -> None:
    """One request before the first create, rather than a failure per page."""
    assert run.space is not None
    if "may_add_pages" not in run.site_cache:
        run.site_cache["may_add_pages"] = ("create", "page") in await run.client.space_operations(run.space.id)
    if not run.site_cache["may_add_pages"]:
        run.site_cache.pop("may_add_pages")  # ask again next time: an admin may grant it meanwhile
        raise PermissionDenied(f"Your account may not add pages to space {run.space.key}: ask a space admin for "
                               "the 'Add pages' permission, or set another space in mdsync.yaml.", 403)


async def publish(run: Run, action: planner.Action, path: str, page: Page | None) -> Outcome:
    """Create or update the page for ``path`` and everything that hangs on it."""
    info = run.infos.get(path)
    if info is not None and info.kind == ContentKind.FOLDER:
        return await publish_folder(run, action, path, page)
    if page is not None and not run.docs[path].has_file:
        return await keep_folder_page(run, action, path, page)
    storage, converted, info, digest = await convert_for_push(run, path)
    if converted is not None and converted.unresolved and page is not None:
        # The file refers to what the page held and the state does not have (a fresh clone
        # without .mdsync): the page itself still has it.
        live = (await run.client.get_page(page.id, kind=page.type)).body
        storage, converted, info = convert_file(run, path, remote_body=live)
        digest = storage_digest(storage)
    refuse_outside(run, path, converted)
    parent_id = run.page_id(run.docs[path].parent)
    if page is not None and page.id == run.root_id:
        parent_id = page.parent_id  # the docs folder's index file: the page holding the tree stays where it is
    entry = run.state.files.get(path)
    if action.needs_same_body and page is not None:
        check_made_from_file(action, path, page, digest)
    if page is None:
        assert run.space is not None
        run.sending.note(Sent(path, info.title, parent_id, info.kind, digest, run.docs[path].md_hash))
        page = await run.client.create_page(run.space.id, info.title, storage, parent_id, kind=info.kind)
        wrote = "created"
    elif action.needs_same_body and storage_digest(page.body or "") == digest:
        wrote = "adopted"
    elif entry is None or entry.storage_hash != digest or page.title != info.title or page.parent_id != parent_id \
            or page.version.number != entry.version:  # the last: --force over a Confluence edit
        run.sending.note(Sent(path, info.title, parent_id, info.kind, digest, run.docs[path].md_hash, page.id,
                              page.version.number + 1))
        page = await run.client.update_page(page, title=info.title, body=storage, message=f"mdsync: {path}",
                                            parent_id=parent_id)
        wrote = "updated"
    else:
        wrote = "unchanged"
    attachments = await upload_attachments(run, page.id, path, converted, entry)
    labels = await update_labels(run, page.id, converted, entry)
    await on_writer(run.state.record, path, FileState(
        page_id=page.id, title=info.title, parent_id=parent_id if info.kind == ContentKind.PAGE else None,
        version=page.version.number, md_hash=run.docs[path].md_hash, storage_hash=digest, kind=info.kind,
        title_source=info.title_source, attachments=attachments, labels=labels,
        links=tuple(converted.links) if converted is not None else (), order=info.order,
        position=entry.position if entry is not None else None), base=info.text, storage=storage,
        kept=kept_for(run, path, info.text, run.payloads.get(path, {})) if info.text is not None else None)
    remove_conflict_copy(run.root, path)
    warnings = "; ".join(str(warning) for warning in converted.warnings) if converted is not None else ""
    return Outcome(action.kind, path, Status.DONE, f"{wrote}{' (' + warnings + ')' if warnings else ''}", page.id)


def check_made_from_file(action: planner.Action, path: str, page: Page, digest: str) -> None:
    """A page found where ``path``'s would be is adopted only if it holds what the file converts
    to, or what a killed run sent for it (``action.made_as``: it is then brought up to the file)."""
    if page.body is None or storage_digest(page.body) not in (digest, *action.made_as):
        raise MdsyncError(f"A page titled '{page.title}' already exists under the same parent in Confluence and "
                          f"was not made from {path}: rename one of them, or run 'mdsync sync --resync' to link "
                          "them.")


def refuse_outside(run: Run, path: str, converted: Any) -> None:
    """A file that refers to a file outside the repository is not published at all (before any
    write): its page would miss what the file shows, and the file there is never read."""
    if converted is None:
        return
    refused = [str(warning) for warning in converted.warnings if warning.kind == "refused"]
    refused += [f"'{ref.path}' is outside the repository" for ref in converted.attachments
                if not run.reach.allows(run.root / ref.path)]  # what the links resolved, checked once more
    if refused:
        raise MdsyncError(f"{path} was not published: {'; '.join(refused)}.")


async def publish_folder(run: Run, action: planner.Action, path: str, folder: Page | None) -> Outcome:
    """A directory without an index file, as a Cloud folder: made once; it has no body to
    update, and its title stays the one it has in Confluence."""
    parent_id = run.page_id(run.docs[path].parent)
    title = run.infos[path].title
    if folder is None:
        assert run.space is not None
        try:
            folder, wrote = await run.client.create_folder(run.space.id, title, parent_id), "created"
        except TitleTaken:
            # An empty folder of this name where the directory is (no listing shows it): that one.
            found = await run.client.child_folder(parent_id, title)
            if found is None:
                raise
            folder, wrote = await run.client.get_page(found, body=False, kind=ContentKind.FOLDER), "adopted"
    elif folder.parent_id != parent_id and \
            (folder := await run.client.get_page(folder.id, body=False, kind=ContentKind.FOLDER)).parent_id != parent_id:
        # Checked afresh: the user may have moved it in Confluence since, as this asks.
        raise MdsyncError(f"{path} moved here, but Confluence's API cannot move a folder: move the folder "
                          f"'{folder.title}' there in Confluence (mdsync then follows), or move {path} back.")
    else:
        wrote = "adopted" if action.kind == ActionKind.ADOPT else "unchanged"
    await on_writer(run.state.record, path, FileState(
        page_id=folder.id, title=folder.title, parent_id=parent_id, version=folder.version.number, md_hash=None,
        storage_hash="", kind=ContentKind.FOLDER, title_source=TitleSource.FOLDER))
    return Outcome(action.kind, path, Status.DONE, f"{wrote} (a Confluence folder)", folder.id)


async def keep_folder_page(run: Run, action: planner.Action, path: str, page: Page) -> Outcome:
    """A folder with no index file stands for its page as the page is: its title and body
    stay (they may be what a deleted index.md held); only a move is carried out."""
    parent_id = run.page_id(run.docs[path].parent)
    entry = run.state.files.get(path)
    storage_hash = entry.storage_hash if entry is not None else ""
    wrote = "unchanged"
    if page.parent_id != parent_id:
        full = await run.client.get_page(page.id, kind=page.type)
        page = await run.client.update_page(full, title=full.title, body=full.body or "",
                                            message=f"mdsync: {path}", parent_id=parent_id)
        storage_hash, wrote = storage_digest(full.body or ""), "moved"
    await on_writer(run.state.record, path, FileState(
        page_id=page.id, title=page.title, parent_id=parent_id, version=page.version.number, md_hash=None,
        storage_hash=storage_hash, kind="page", title_source=TitleSource.FOLDER))
    return Outcome(action.kind, path, Status.DONE, f"{wrote} (the folder keeps its page as it is)", page.id)


async def upload_attachments(run: Run, page_id: str, path: str, converted: Any,
                             entry: FileState | None) -> dict[str, AttachmentState]:
    """The files the page shows or links, uploaded where they changed since the last sync."""
    known = dict(entry.attachments) if entry is not None else {}
    result: dict[str, AttachmentState] = {}
    remote_files: dict[str, Any] | None = None
    for ref in list(converted.attachments) if converted is not None else []:
        try:
            data = (run.root / ref.path).read_bytes()
        except OSError:
            continue  # reported by the converter's warnings; nothing to upload
        digest = file_hash(data)
        previous = known.get(ref.filename)
        if previous is not None and previous.hash == digest:
            result[ref.filename] = replace(previous, path=ref.path)
            continue
        if remote_files is None:
            remote_files = {item.title: item for item in await run.client.attachments(page_id)}
        media = mimetypes.guess_type(ref.filename)[0] or "application/octet-stream"
        uploaded = await run.client.upload_attachment(page_id, ref.filename, data, media_type=media,
                                                      existing=remote_files.get(ref.filename))
        result[ref.filename] = AttachmentState(uploaded.id, digest, uploaded.version, ref.path)
    return result


async def update_labels(run: Run, page_id: str, converted: Any, entry: FileState | None) -> tuple[str, ...]:
    """The page's labels as the front matter lists them: new ones added, dropped ones removed."""
    if converted is None:
        return entry.labels if entry is not None else ()
    wanted = tuple(converted.labels)
    had = set(entry.labels) if entry is not None else set()
    added = [label for label in wanted if label not in had]
    if added:
        await run.client.add_labels(page_id, added)
    for label in had - set(wanted):
        await run.client.remove_label(page_id, label)
    return wanted


# -- the executors ----------------------------------------------------------------------------


async def create(run: Run, action: planner.Action) -> Outcome:
    return await publish(run, action, action.path, None)


async def adopt(run: Run, action: planner.Action) -> Outcome:
    kind = run.remote[action.page_id].type if action.page_id in run.remote else ContentKind.PAGE
    # With its body when that has to show the page was made from the file.
    return await publish(run, action, action.path, await run.client.get_page(
        action.page_id or "", body=action.needs_same_body and kind == ContentKind.PAGE, kind=kind))


async def update(run: Run, action: planner.Action) -> Outcome:
    """Update, move: the page is written as the file now is (unchanged parts are not sent)."""
    if run.options.keep is None:
        return await publish(run, action, action.path, run.remote_page(action))
    await check_copy_current(run, action.path)  # a resolution overwrites only the version the user saw
    return resolved(action, await publish(run, action, action.path, run.remote_page(action)))


def resolved(action: planner.Action, outcome: Outcome) -> Outcome:
    """A resolve run's outcome says which side it made the agreed version."""
    outcome.message = f"{action.reason} ({outcome.message})" if outcome.message else action.reason
    return outcome


async def rename(run: Run, action: planner.Action) -> Outcome:
    assert action.new_path is not None
    run.state.rename(action.path, action.new_path)
    outcome = await publish(run, action, action.new_path, run.remote_page(action))
    outcome.new_path, outcome.path = action.new_path, action.path
    return outcome


async def trash(run: Run, action: planner.Action) -> Outcome:
    entry = run.state.files[action.path]
    staying = sorted(path for path in _tracked_under(run).get(entry.page_id, ()) if path != action.path
                     and path in run.state.files and run.state.files[path].parent_id == entry.page_id)
    if staying:
        # Confluence would archive what is still under it (a child whose move out failed).
        raise MdsyncError(f"{action.path} was not trashed: {staying[0]} is still under its page in Confluence; "
                          "once that has moved, run again.")
    await run.client.delete_page(entry.page_id, kind=entry.kind)
    run.state.forget(action.path)
    return Outcome(ActionKind.TRASH, action.path, Status.DONE, "page moved to the trash", entry.page_id)


def _tracked_under(run: Run) -> dict[str, list[str]]:
    """Parent id -> tracked paths, made once per run at its first trash (trashes come after
    every move; a page trashed since is no longer in the state, which the caller checks)."""
    if run.under is None:
        run.under = {}
        for path, entry in run.state.files.items():
            if entry.parent_id is not None:
                run.under.setdefault(entry.parent_id, []).append(path)
    return run.under


async def reorder(run: Run, action: planner.Action) -> Outcome:
    """Put the sibling pages in the order the plan gives, with the fewest v1 moves; then
    record where each page now stands, so the next run can tell a reorder in Confluence."""
    parent_id = run.page_id(action.parent)
    parent_kind = run.state.files[action.parent].kind if action.parent in run.state.files else ContentKind.PAGE
    pages = {path: run.state.files[path].page_id for path in action.order if path in run.state.files}
    positions = await run.client.child_positions(parent_id, parent_kind=parent_kind)
    moved = siblings.moves(list(positions), [pages[path] for path in action.order if path in pages])
    for page_id, where, target in moved:  # one at a time: each target is already in its place
        await run.client.move_page(page_id, where, target)
    if moved:
        positions = await run.client.child_positions(parent_id, parent_kind=parent_kind)
    for path, page_id in pages.items():
        await on_writer(run.state.update, path, position=positions.get(page_id))
    return Outcome(ActionKind.REORDER, action.path, Status.DONE,
                   f"{len(moved)} page(s) moved into the order the files say" if moved else "already in that order",
                   parent_id)

