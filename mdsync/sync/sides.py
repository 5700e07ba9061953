"""Reading both sides into what the planner decides from.

The files (scanned, titled: ``docs.py``), the page tree under the root page (one listing),
and the facts only a look at both can give: which files whose pages changed in Confluence
hold what Confluence now holds (agreements), which files' attachments changed, and, for a
resync, which file stands for which page.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from mdsync.confluence.errors import NotFound
from mdsync.confluence.models import Page, Space, Version
from mdsync.docs import (
    INDEX_FILES,
    FileInfo,
    InputError,
    LocalDoc,
    file_hash,
    folder_title,
    scan,
    title_of,
)
from mdsync.errors import MdsyncError
from mdsync.storage.canonical import storage_digest
from mdsync.sync import plan as planner
from mdsync.sync.context import Agreement, Run
from mdsync.sync.files import compose, convert_file, fetch_markdown, kept_for, restyled
from mdsync.sync.report import Outcome
from mdsync.sync.sending import Sent
from mdsync.sync.state import FileState, atomic_write
from mdsync.vocabulary import (
    ActionKind,
    ContentKind,
    FolderStyle,
    HomePage,
    Status,
    TitleSource,
)


def read_local(run: Run) -> tuple[dict[str, planner.Local], list[Outcome]]:
    """The docs folder as the planner sees it, and the files that cannot be read now."""
    run.docs = scan(run.root, run.config.include, run.config.exclude, run.reach)
    _keep_empty_folders(run)
    run.infos = {}
    run.links = None
    unreadable: list[Outcome] = []
    local: dict[str, planner.Local] = {}
    for path, doc in run.docs.items():
        try:
            info = _info(run, doc)
        except MdsyncError as error:
            unreadable.append(Outcome(ActionKind.SKIP, path, Status.FAILED, error.message))
            continue
        run.infos[path] = info
        local[path] = planner.Local(path, doc.parent, doc.md_hash, info.title, info.page_id, info.kind, info.order)
    return local, unreadable


def _keep_empty_folders(run: Run) -> None:
    """A tracked Cloud folder whose directory is still here but holds no file (its pages were
    moved out in Confluence) is in step, not deleted here: the scan lists only files."""
    gone = [path for path, entry in run.state.files.items() if entry.kind == ContentKind.FOLDER
            and path not in run.docs and (run.root / path).is_dir()]
    empty = sorted((path for path in gone if not any(doc.startswith(path) for doc in run.docs)),
                   key=lambda path: path.count("/"))  # a directory that now has an index file is that page
    for path in empty:
        above = posixpath.dirname(path.rstrip("/"))
        parent = next((candidate for candidate in (*(posixpath.join(above, name) for name in INDEX_FILES),
                                                   above + ".md", above + "/") if above and candidate in run.docs),
                      None)
        if above and parent is None:
            continue  # its place in the tree is gone too: the plan sees it deleted here
        run.docs[path] = LocalDoc(path, parent, None, path.rstrip("/"))


def _info(run: Run, doc: LocalDoc) -> FileInfo:
    if doc.refused is not None:
        raise InputError(doc.refused)  # a link out of the repository: left alone, as an unreadable file is
    entry = run.state.files.get(doc.path)
    if not doc.has_file:  # a folder (or a folder's page) keeps the title it has in Confluence
        return FileInfo(entry.title if entry is not None else folder_title(doc), TitleSource.FOLDER,
                        _folder_kind(run, doc, entry), None, None)
    if entry is not None and entry.md_hash == doc.md_hash:  # unchanged: no need to read it
        return FileInfo(entry.title, _TITLE_SOURCES[entry.title_source], entry.kind, None, None, entry.order)
    return title_of(run.text(doc.path), doc)


_TITLE_SOURCES = {source.value: source for source in TitleSource}  # (the Enum call, once a file, was not free)


def _folder_kind(run: Run, doc: LocalDoc, entry: FileState | None) -> str:
    """What a directory without an index file stands for: what it stood for before; the page
    of its index file if that was just deleted (the page stays, as it is); else what
    ``folders`` says."""
    if entry is not None:
        return entry.kind
    if any(doc.path + name in run.state.files for name in INDEX_FILES):
        return ContentKind.PAGE
    return ContentKind.FOLDER if run.config.folders == FolderStyle.FOLDER else ContentKind.PAGE


async def read_remote(run: Run) -> None:
    """The space, the root page, and one listing of the space: the tree and the titles outside it."""
    await run.client.open()
    if "space" not in run.site_cache:
        run.space = await run.client.space(run.config.space)
        run.site_cache.update(space=run.space, root_page=await _root_page(run))
    run.space, run.root_page = run.site_cache["space"], run.site_cache["root_page"]
    _remember_site(run)
    # Archived pages are listed too: they are not deleted, and they keep their titles.
    listing = await run.client.pages_in_space(run.space.id, statuses=("current", "archived"))
    current = [page for page in listing if page.status == "current"]
    if run.root_page.id not in {page.id for page in current}:
        run.site_cache.clear()
        raise MdsyncError(f"The page that holds the tree ({run.root_page.title}, id {run.root_page.id}) is no "
                          "longer in the space: restore it, or set 'parent' in mdsync.yaml.")
    run.root_listed = next(page for page in current if page.id == run.root_page.id)
    folders = await _folders(run, current)
    run.remote = _tree([*current, *folders], run.root_page.id)
    _remember_outside_folders(run, folders)
    run.archived = {page.id: page for page in listing if page.status == "archived"}
    run.archived.update(_under_archived(current, run.archived, run.remote))
    run.outside = {page.title.lower(): page.id for page in listing if page.id not in run.remote}


def as_last_synced(run: Run) -> bool:
    """Confluence as the state last saw it, for a status that cannot ask it: every tracked
    page unchanged. False when the state has never met the site (nothing to stand in)."""
    site = run.state.site
    root_id, space_id = site.get("root_page_id"), site.get("space_id")
    if not isinstance(root_id, str) or not isinstance(space_id, str) or site.get("url") != run.config.confluence.url:
        return False
    run.space = Space(space_id, str(site.get("space") or run.config.space), "", None)
    root_entry = next((entry for entry in run.state.files.values() if entry.page_id == root_id), None)
    run.root_page = run.root_listed = Page(root_id, root_entry.title if root_entry else "", space_id, None,
                                           "current", Version(root_entry.version if root_entry else 0))
    run.remote = {entry.page_id: Page(entry.page_id, entry.title, space_id, entry.parent_id or root_id, "current",
                                      Version(entry.version), type=entry.kind, position=entry.position)
                  for entry in run.state.files.values() if entry.page_id != root_id}
    return True


def _under_archived(current: list[Page], archived: Mapping[str, Page], tree: Mapping[str, Page]) -> dict[str, Page]:
    """Current pages cut off from the tree by an archived page above them (Cloud archives the
    children of a trashed page, not their children): they count as archived too."""
    by_id = {page.id: page for page in current}
    cut_off: dict[str, bool] = {}

    def below_archived(page_id: str) -> bool:
        chain = []
        while page_id not in cut_off:
            if page_id in archived:
                cut_off[page_id] = True
                break
            page = by_id.get(page_id)
            if page is None or page.id in tree or page.parent_id is None:
                cut_off[page_id] = False
                break
            chain.append(page_id)
            page_id = page.parent_id
        for link in chain:
            cut_off[link] = cut_off[page_id]
        return cut_off[page_id]

    return {page.id: page for page in current if page.id not in tree and page.parent_id is not None
            and below_archived(page.parent_id)}


async def _folders(run: Run, pages: list[Page]) -> list[Page]:
    """The Cloud folders the pages sit in, up to the tree's root. A listing of pages holds no
    folders: one this tree made or pulled is known from the state, any other is read once
    (``GET /folders/{id}``, then its parent if that is a folder too). A tracked folder that no
    page sits in any more is read, since nothing else says whether it still exists."""
    known = {entry.page_id: entry for entry in run.state.files.values() if entry.kind == ContentKind.FOLDER}
    listed = {page.id for page in pages}
    found: dict[str, Page] = {}
    missing: set[str] = set()

    async def read(folder_id: str) -> None:
        try:
            folder = await run.client.get_page(folder_id, body=False, kind=ContentKind.FOLDER)
        except NotFound:
            missing.add(folder_id)
            return
        if folder.status == "current":
            found[folder_id] = folder
        else:
            missing.add(folder_id)  # trashed or archived: not in the tree

    def parents_wanted(children: Iterable[Page]) -> set[str]:
        return {child.parent_id for child in children if child.parent_type == ContentKind.FOLDER and child.parent_id
                and child.parent_id not in listed and child.parent_id not in found and child.parent_id not in missing}

    cached = {} if run.options.resync else run.state.outside_folders
    wanted = parents_wanted(pages)
    while wanted:
        from_state = {folder_id for folder_id in wanted if (folder_id in known or folder_id in cached)
                      and not run.options.resync}
        for folder_id in from_state:
            found[folder_id] = _folder_from_state(known[folder_id], known) if folder_id in known else \
                _folder_from_cache(folder_id, cached[folder_id])
        await asyncio.gather(*(read(folder_id) for folder_id in wanted - from_state))
        wanted = parents_wanted(found[folder_id] for folder_id in wanted if folder_id in found)
    await asyncio.gather(*(read(folder_id) for folder_id in known if folder_id not in found and
                           folder_id not in missing))
    return list(found.values())


def _remember_outside_folders(run: Run, folders: list[Page]) -> None:
    """Keep the folders outside the tree that pages sit in, so the next run need not read them."""
    outside = {folder.id: {"title": folder.title, "parent_id": folder.parent_id, "parent_type": folder.parent_type}
               for folder in folders if folder.id not in run.remote}
    if outside != run.state.outside_folders:
        run.state.outside_folders = outside
        run.site_changed = True  # saved with the state (a dry run leaves .mdsync alone)


def _folder_from_cache(folder_id: str, cached: Mapping[str, Any]) -> Page:
    return Page(folder_id, str(cached.get("title") or ""), "", cached.get("parent_id"), "current", Version(0),
                type=ContentKind.FOLDER, parent_type=cached.get("parent_type"))


def _folder_from_state(entry: FileState, known: Mapping[str, FileState]) -> Page:
    assert entry.parent_id is not None
    return Page(entry.page_id, entry.title, "", entry.parent_id, "current", Version(entry.version),
                type=ContentKind.FOLDER, parent_type=ContentKind.FOLDER if entry.parent_id in known else "page")


def place_root_file(run: Run, local: dict[str, planner.Local]) -> None:
    """The docs folder's own index file is the body of the page that holds the tree (which
    keeps its title), not a page beside the folders. One tracked as such a page from before
    stays one."""
    assert run.root_listed is not None
    run.root_file = None
    for name in INDEX_FILES:
        if name not in local or name not in run.infos:
            continue
        entry = run.state.files.get(name)
        if entry is not None and entry.page_id != run.root_listed.id:
            return
        run.root_file = name
        run.infos[name] = replace(run.infos[name], title=run.root_listed.title, title_source=TitleSource.TREE_ROOT)
        local[name] = replace(local[name], title=run.root_listed.title)
        return


def may_write_root(run: Run) -> bool:
    """May the docs folder's index file write the root page? Always, unless that is the space's
    home page (however mdsync.yaml names it) and neither home_page: write nor --allow-home says so."""
    assert run.space is not None
    return run.root_id != run.space.homepage_id or run.config.home_page == HomePage.WRITE or run.options.allow_home


def root_for_planner(run: Run) -> planner.Remote:
    assert run.root_listed is not None
    root = run.root_listed
    return planner.Remote(root.id, root.title, root.parent_id, root.version.number)


async def read_blog_posts(run: Run) -> None:
    """Blog posts hang under the space, not the tree: listed only when a file is one."""
    if any(entry.kind == "blogpost" for entry in run.state.files.values()) or \
            any(info.kind == "blogpost" for info in run.infos.values()):
        assert run.space is not None
        for post in await run.client.blog_posts(run.space.id):
            run.remote[post.id] = post


def remote_for_planner(run: Run) -> dict[str, planner.Remote]:
    return {page.id: planner.Remote(page.id, page.title, page.parent_id, page.version.number, page.type,
                                    _source(page), page.position) for page in run.remote.values()}


async def _root_page(run: Run) -> Page:
    assert run.space is not None
    parent = run.config.parent
    if parent is None:
        if run.space.homepage_id is None:
            raise MdsyncError(f"Space {run.space.key} has no home page: set 'parent' in mdsync.yaml.")
        return await run.client.get_page(run.space.homepage_id, body=False)
    if parent.isdigit():
        try:
            return await run.client.get_page(parent, body=False)
        except NotFound:
            raise MdsyncError(f"mdsync.yaml's parent page {parent} does not exist in Confluence (or cannot be "
                              "seen): check the id.") from None
    found = await run.client.find_page(run.space.id, parent)
    if found is None:
        raise MdsyncError(f"There is no page titled '{parent}' in space {run.space.key} to hold the tree: "
                          "create it, or fix 'parent' in mdsync.yaml.")
    return found


def _remember_site(run: Run) -> None:
    assert run.space is not None and run.root_page is not None
    site = {"space": run.space.key, "space_id": run.space.id, "root_page_id": run.root_page.id,
            "url": run.config.confluence.url}
    if run.client.cloud_id:
        site["cloud_id"] = run.client.cloud_id
    if run.state.site.get("root_page_id") not in (None, run.root_page.id) or \
            run.state.site.get("space_id") not in (None, run.space.id):
        raise MdsyncError("The state in .mdsync was made for another space or parent page: run 'mdsync sync "
                          "--resync' to rebuild it for this one.")
    if site != run.state.site:
        run.state.site = site  # saved once something is written: a dry run leaves .mdsync alone
        run.site_changed = True


def _tree(pages: list[Page], root_id: str) -> dict[str, Page]:
    children: dict[str | None, list[Page]] = {}
    for page in pages:
        children.setdefault(page.parent_id, []).append(page)
    tree: dict[str, Page] = {}
    pending = list(children.get(root_id, []))
    while pending:
        page = pending.pop()
        tree[page.id] = page
        pending.extend(children.get(page.id, []))
    return tree


def _source(page: Page) -> str | None:
    """The file mdsync last wrote the page from, as its version message says (``mdsync: PATH``)."""
    message = page.version.message or ""
    return message[len("mdsync: "):] if message.startswith("mdsync: ") else None


# -- facts from both sides ------------------------------------------------------------------


async def agreements(run: Run, selected: Callable[[str], bool]) -> dict[str, Agreement]:
    """Files changed here whose pages changed in Confluence to the very same thing.

    That is what a run killed after a write but before recording it leaves behind (a
    push's update, a pull's file), and what the same edit made on both sides looks like.
    Such a file is in step, not in conflict: the planner has the state learn so.
    """
    candidates = []
    for path, entry in run.state.files.items():
        doc, info, page = run.docs.get(path), run.infos.get(path), run.remote.get(entry.page_id)
        if doc is None or info is None or page is None or not doc.has_file or not selected(path):
            continue
        if doc.md_hash != entry.md_hash and page.version.number != entry.version and page.title == info.title:
            candidates.append(path)
    found: dict[str, Agreement] = {}

    async def check(path: str) -> None:
        entry = run.state.files[path]
        try:
            pulled = await fetch_markdown(run, entry.page_id, path, entry.kind)
            page = pulled.page
            if page.body is None:
                return
            ours = _sent_by_us(run.sending.pending.get(path, ()), page)
            if ours is not None:
                # The version a killed run's update made, as it sent it: Confluence did not change;
                # the file did since (its base stays the one before: the newer edit is pushed).
                found[path] = Agreement(replace(
                    entry, title=page.title, parent_id=page.parent_id if entry.kind == "page" else None,
                    version=page.version.number, md_hash=ours.md_hash, storage_hash=storage_digest(page.body)),
                    None, page.body, None)
                return
            storage, converted, info = convert_file(run, path, remote_body=page.body)
            text = info.text or ""
            if storage_digest(storage) != storage_digest(page.body):
                remote_text, _ = compose(run, path, pulled.markdown, page.title)
                if restyled(run, path, remote_text, page.title) != text:
                    return
        except MdsyncError:
            return  # not provably the same: the plan treats it as changed on both sides
        found[path] = Agreement(replace(
            entry, title=page.title, parent_id=page.parent_id if entry.kind == "page" else None,
            version=page.version.number, md_hash=run.docs[path].md_hash, storage_hash=storage_digest(page.body),
            links=tuple(converted.links) if converted is not None else entry.links), text, page.body,
            kept_for(run, path, text, run.payloads.get(path, {}), pulled.payloads))

    await asyncio.gather(*(check(path) for path in candidates))
    return found


def _sent_by_us(notes: Sequence[Sent], page: Page) -> Sent | None:
    """The update a run sent and never recorded that left the page as it is, if one did."""
    held = storage_digest(page.body) if page.body is not None else None
    return next((sent for sent in notes if sent.page_id == page.id and sent.version == page.version.number
                 and sent.storage_hash == held), None)


def changed_attachments(run: Run) -> set[str]:
    """Files whose attachments (images, linked files) changed here though their text did not."""
    changed = set()
    for path, entry in run.state.files.items():
        for attachment in entry.attachments.values():
            file = run.root / attachment.path
            if run.reach.allows(file) and file.is_file() and file_hash(file.read_bytes()) != attachment.hash:
                changed.add(path)
                break
    return changed


async def resync(run: Run, local: dict[str, planner.Local]) -> None:
    """Rebuild the state: each file matched to its page (planner.resync_matches); what agrees
    is recorded as synced, what differs as changed on both sides."""
    run.state.files = {}
    matches = planner.resync_matches(local, remote_for_planner(run))
    if run.root_file is not None:
        matches[run.root_file] = root_for_planner(run)  # the docs folder's index file is the root's body
    for path in sorted(local):
        match = matches.get(path)
        if match is None:
            run.state.drop_copies(path)  # an earlier state's copies would mislead the next push
            continue
        page = run.root_listed if match.id == run.root_id else run.remote[match.id]
        assert page is not None
        if page.type == ContentKind.FOLDER:
            run.state.drop_copies(path)
            run.state.files[path] = FileState(
                page_id=page.id, title=page.title, parent_id=page.parent_id, version=page.version.number,
                md_hash=None, storage_hash="", kind=ContentKind.FOLDER, title_source=TitleSource.FOLDER)
            continue
        full = await run.client.get_page(page.id, kind=page.type)
        storage, converted, info = convert_file(run, path, remote_body=full.body or "")
        held = storage_digest(full.body or "")
        same = full.body is not None and held == storage_digest(storage)
        if page.id == run.root_id and not same and not may_write_root(run):
            run.state.drop_copies(path)
            continue  # left new: the plan then asks for --allow-home before the home page is written
        # A page a killed run made from the file and never recorded holds what that run sent:
        # changed here only (the file moved on), not on both sides.
        ours = not same and any(sent.page_id in (None, page.id) and sent.storage_hash == held
                                for sent in run.sending.pending.get(path, ()))
        run.state.files[path] = FileState(
            page_id=page.id, title=page.title, parent_id=page.parent_id,
            version=page.version.number if same or ours else 0,
            md_hash=run.docs[path].md_hash if same else "" if ours else None, storage_hash=held,
            kind=page.type, title_source=info.title_source)
        # The page as Confluence has it now is what a push takes back what Markdown cannot say from;
        # the file is the merge base only where the two agree (else the plan sees both sides changed).
        run.state.drop_copies(path)
        atomic_write(run.state.storage_path(path), full.body or "")
        if info.text is not None:
            run.state.write_kept(path, kept_for(run, path, info.text, run.payloads.get(path, {})))
        if same and info.text is not None:
            atomic_write(run.state.base_path(path), info.text)
    run.state.save()
