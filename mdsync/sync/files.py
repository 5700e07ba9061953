"""A file as a push converts it, and a page as a pull writes it: the conversions of a run.

Push: a file's Markdown to storage, its links resolved in the tree as the run knows it, what
its kept regions refer to looked up (the state, the page as last synced or as Confluence has
it, another file's), and what Markdown cannot say taken back from the page (``reapply``).
Pull: a page's storage to Markdown, its page links and attachments as paths of the tree,
under the file's own front matter and title, in the file's own style where the page did
not change.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdsync.confluence.models import Page
from mdsync.convert import carry
from mdsync.convert.frontmatter import (
    FrontMatter,
    join_front_matter,
    split_front_matter,
    with_updates,
)
from mdsync.convert.markdown_text import escape_heading, path_href
from mdsync.convert.to_markdown import convert_storage
from mdsync.docs import FileInfo, Links, conflict_copy
from mdsync.errors import MdsyncError
from mdsync.storage.canonical import storage_digest
from mdsync.sync import conversions
from mdsync.sync.context import Run
from mdsync.sync.merge import has_conflict_markers, merge_markdown
from mdsync.sync.names import OutsideDocs, docs_file, safe_file_name
from mdsync.vocabulary import TitleSource

FOLDER_BODY = '<ac:structured-macro ac:name="children" />'


@dataclass(frozen=True)
class Pulled:
    """A page as a pull reads it: the page, its Markdown and what the Markdown's markers refer to."""

    page: Page
    markdown: str
    payloads: dict[str, carry.Carried]
    attachments: tuple[str, ...]


# -- push: a file to storage ----------------------------------------------------------------


def convert_file(run: Run, path: str, *, remote_body: str | None = None) -> tuple[str, Any, FileInfo]:
    """A file's storage as a push writes it, with what Markdown cannot say taken back from the
    page as last synced (or, given, as Confluence has it now)."""
    info, job = conversion_job(run, path, remote_body)
    if job is None:
        return FOLDER_BODY, None, info
    done = conversions.convert(job, tree_links(run))
    return done.storage, done.converted, info


async def convert_for_push(run: Run, path: str) -> tuple[str, Any, FileInfo, str]:
    """``convert_file`` in the run's workers where it has them; with the storage's digest."""
    info, job = conversion_job(run, path, None)
    if job is None:
        return FOLDER_BODY, None, info, storage_digest(FOLDER_BODY)
    done = await run.conversions.convert(job) if run.conversions is not None else \
        conversions.convert(job, tree_links(run))
    return done.storage, done.converted, info, done.digest


def conversion_job(run: Run, path: str, remote_body: str | None) -> tuple[FileInfo, conversions.Job | None]:
    """What converting a file needs from the run (None for a folder's page, which has no file)."""
    info = run.infos[path]
    if path.endswith("/"):
        return info, None
    text = info.text if info.text is not None else run.text(path)
    info.text = text
    if has_conflict_markers(text):
        raise MdsyncError(f"{path} still has merge conflict markers (<<<<<<<): settle them, then push.")
    # Copies without an entry are left by a killed run before it recorded them: no page as
    # last synced. (Not looking also spares a first push 2 failed opens a file.)
    previous = remote_body if remote_body is not None else \
        run.state.storage(path) if path in run.state.files else None
    run.payloads[path] = payloads_for(run, path, text, remote_body)
    title_from_heading = info.title_source in (TitleSource.HEADING, TitleSource.HEADING_KEPT)
    return info, conversions.Job(path, text, title_from_heading, run.payloads[path], previous)


def start_conversions(run: Run, publishing: list[str]) -> conversions.Conversions:
    """Where the conversions of a push of these files run (workers for many), the workers
    given the files to start on."""
    started = conversions.Conversions.start(lambda: link_tree(run), tree_links(run), len(publishing))

    def job_for(path: str) -> conversions.Job | None:
        try:
            return conversion_job(run, path, None)[1]
        except Exception:  # noqa: BLE001 - conflict markers, an unreadable file: its own action reports it
            return None

    started.expect(publishing, job_for)
    return started


def link_tree(run: Run) -> conversions.Tree:
    readable = {path: doc for path, doc in run.docs.items() if path in run.infos}  # an unreadable file is no target
    return conversions.Tree(run.root, readable, {path: run.infos[path].title for path in readable}, run.reach)


def tree_links(run: Run) -> Links:
    """Links answered from the tree as the run knows it (titles of unchanged files from the state)."""
    if run.links is None:
        tree = link_tree(run)
        run.links = Links(tree.root, tree.docs, lambda path: run.infos[path].title,
                          lambda path: run.infos[path].text or run.text(path), tree.reach)
    return run.links


def payloads_for(run: Run, path: str, text: str, remote_body: str | None = None) -> dict[str, carry.Carried]:
    """What a file's kept regions refer to: kept with the state; else what the page as last
    synced or as Confluence has it now holds; else another file's (a region copied over)."""
    wanted = carry.refs_in(text)
    if not wanted:
        return {}  # nothing to find (what is kept is filtered to the wanted anyway: kept_for)
    found = run.state.kept(path)
    for storage in (run.state.storage(path), remote_body):
        if wanted <= found.keys():
            return found
        if storage:
            found.update(derived_payloads(run, path, storage))
    missing = wanted - found.keys()
    for other in run.state.files if missing else ():
        if other != path:
            found.update({ref: item for ref, item in run.state.kept(other).items() if ref in missing})
    return found


def derived_payloads(run: Run, path: str, storage: str) -> dict[str, carry.Carried]:
    try:
        return convert_storage(storage, resolve_page=page_link(run, path), resolve_attachment=attachment_link(run, path),
                               keep_payloads=True).payloads
    except MdsyncError:
        return {}


def kept_for(run: Run, path: str, text: str, *more: dict[str, carry.Carried]) -> dict[str, carry.Carried]:
    """The payloads to keep for a file: those its text refers to, from what is known of them."""
    wanted = carry.refs_in(text)
    if not wanted:
        return {}
    known = {**run.state.kept(path)}
    for payloads in more:
        known.update(payloads)
    return {ref: known[ref] for ref in wanted if ref in known}


# -- pull: a page to Markdown -----------------------------------------------------------------


async def fetch_markdown(run: Run, page_id: str, path: str, kind: str) -> Pulled:
    page = await run.client.get_page(page_id, kind=kind)
    back = convert_storage(page.body or "", resolve_page=page_link(run, path),
                           resolve_attachment=attachment_link(run, path), keep_payloads=True)
    return Pulled(page, back.markdown, back.payloads, back.attachments)


def page_link(run: Run, path: str) -> Callable[[str, str | None, str | None], str | None]:
    """A page link as a relative URL from ``path`` to the target's file (``a%20b.md#part``:
    the path's own ``%``, ``#`` and ``?`` escaped), or the page's address."""
    paths = {info.title.lower(): other for other, info in run.infos.items()}
    for other, entry in run.state.files.items():
        paths.setdefault(entry.title.lower(), other)
    site = (run.config.confluence.url or "").rstrip("/")
    space = run.space.key if run.space is not None else ""

    def resolve(title: str, space_key: str | None, anchor: str | None) -> str | None:
        if space_key in (None, space):
            target = paths.get(title.lower())
            if target is not None and not target.endswith("/"):
                href = path_href(posixpath.relpath(target, posixpath.dirname(path) or "."))
                if anchor:
                    slugs = {value: key for key, value in tree_links(run).anchors(target).items()} \
                        if target in run.infos else {}
                    href += "#" + slugs.get(anchor, anchor)
                return href
        key = space_key or space
        return f"{site}/wiki/display/{key}/{title.replace(' ', '+')}" if site else None

    return resolve


def attachment_link(run: Run, path: str) -> Callable[[str, str | None], str | None]:
    """An attachment of the page as a path from ``path``: where it was, else ``NAME.assets/``
    under a name safe as a file name (Confluence's may hold ``/``, ``..`` or a drive)."""
    entry = run.state.files.get(path)
    known = entry.attachments if entry is not None else {}
    folder = posixpath.dirname(path)
    stem = posixpath.splitext(posixpath.basename(path.rstrip("/")))[0] or "page"

    def resolve(filename: str, owner: str | None) -> str | None:
        if owner:
            return None
        target = known[filename].path if filename in known else \
            posixpath.join(folder, f"{stem}.assets", safe_file_name(filename))
        return posixpath.relpath(target, folder or ".")

    return resolve


def compose(run: Run, path: str, markdown: str, title: str) -> tuple[str, TitleSource]:
    """The file's new text: Confluence's body under the file's own front matter and title."""
    entry = run.state.files.get(path)
    source = TitleSource(entry.title_source) if entry is not None else TitleSource.HEADING
    file = run.root / path
    front = FrontMatter()
    if file.is_file():
        try:
            front, body = split_front_matter(run.text(path))
            # Keep the file's own spacing between its front matter and its body.
            markdown = body[: len(body) - len(body.lstrip("\n"))] + markdown if front.raw else markdown
        except MdsyncError:
            front = FrontMatter()
    if source == TitleSource.TREE_ROOT:
        return join_front_matter(front, markdown), source  # the page holding the tree keeps its own title
    if source == TitleSource.FRONT_MATTER or front.title:
        return join_front_matter(with_updates(front, title=title), markdown), TitleSource.FRONT_MATTER
    if source == TitleSource.HEADING_KEPT:
        return join_front_matter(front, markdown), source
    if source in (TitleSource.HEADING, TitleSource.FOLDER) or not file.exists():
        heading = f"# {escape_heading(title)}\n\n"
        if source == TitleSource.FOLDER and title == posixpath.basename(posixpath.dirname(path)):
            return join_front_matter(front, markdown), TitleSource.FOLDER
        return join_front_matter(front, heading + markdown), TitleSource.HEADING
    if title != posixpath.splitext(posixpath.basename(path))[0]:
        return join_front_matter(with_updates(front, title=title), markdown), TitleSource.FRONT_MATTER
    return join_front_matter(front, markdown), TitleSource.FILENAME


def restyled(run: Run, path: str, remote_text: str, title: str) -> str:
    """Confluence's new text, in the file's own style where the page did not change.

    mdsync writes Markdown its own way (tables compact, one bullet style...). To keep a
    pull's diff to what changed in Confluence, the change is taken as a three-way merge:
    the last synced storage as mdsync would write it (base), the file as last synced
    (the user's style), and the new storage as mdsync writes it.
    """
    old_storage, user_base = run.state.storage(path), run.state.base(path)
    entry = run.state.files.get(path)
    if old_storage is None or user_base is None:
        return remote_text
    try:
        # The base carries the title as last synced, so a title changed in Confluence is a
        # change the merge takes in, not a line both sides agree on.
        old_text, _ = compose(run, path, convert_storage(old_storage, resolve_page=page_link(run, path),
                                                         resolve_attachment=attachment_link(run, path),
                                                         keep_payloads=True).markdown,
                              entry.title if entry is not None else title)
    except MdsyncError:
        return remote_text
    merged = merge_markdown(old_text, user_base, remote_text)
    return remote_text if merged.conflicts else merged.text


def command_path(root: Path, path: str) -> str:
    """A file of the docs folder as a command typed where mdsync runs names it (advice quotes it)."""
    return shlex.quote(os.path.relpath(root / path))


def conflict_text(run: Run, path: str, pulled: Pulled) -> str:
    """Confluence's version of a file in conflict, as its copy beside the file holds it."""
    return compose(run, path, pulled.markdown, pulled.page.title)[0]


async def check_copy_current(run: Run, path: str) -> None:
    """Before a resolution is pushed over Confluence's version: that version must still be the
    one in the copy beside the file, which the user merged or chose to overwrite. A colleague's
    edit made since is not overwritten unseen. (With the copy deleted, the user vouches.)"""
    try:
        copy = docs_file(run.root, conflict_copy(path))
    except OutsideDocs:
        return
    entry = run.state.files.get(path)
    if entry is None or not copy.is_file():
        return
    pulled = await fetch_markdown(run, entry.page_id, path, entry.kind)
    if _body(conflict_text(run, path, pulled)) != _body(copy.read_text(encoding="utf-8")):
        raise MdsyncError(f"Confluence's page for {path} changed again after {conflict_copy(path)} was written (it "
                          f"is at version {pulled.page.version.number} now): run `mdsync sync` to merge that edit "
                          f"too (or get a fresh {conflict_copy(path)}), then resolve again.")


def _body(text: str) -> str:
    """A text without its front matter (the file's own, which compose puts on Confluence's)."""
    try:
        return split_front_matter(text)[1]
    except MdsyncError:
        return text


def remove_conflict_copy(root: Path, path: str) -> None:
    """Once a file is back in step, Confluence's copy from an earlier conflict is stale."""
    if not os.path.lexists(root / conflict_copy(path)):
        return  # the common case, answered without docs_file's two realpath calls
    try:
        copy = docs_file(root, conflict_copy(path))
    except OutsideDocs:
        return  # never a copy of ours
    if copy.is_file():
        copy.unlink()
