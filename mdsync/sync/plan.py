"""The sync planner: (local tree, remote tree, state) in, actions out. Pure: no I/O.

Changes are detected against the state, the archive of the last agreed version of every
file (as Unison and rclone bisync do): a file changed here if its Markdown hash differs
from the state's; a page changed in Confluence if its version does. Changes on one side
are carried to the other; changes on both are conflicts, settled by the policy the user
chose (stop, merge, local, remote) and never guessed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from mdsync.docs import INDEX_FILES, folder_of, same_titles
from mdsync.sync import siblings
from mdsync.sync.names import page_stem, unique_path
from mdsync.sync.sending import Sent
from mdsync.sync.state import FileState
from mdsync.vocabulary import (
    ACTIONS,
    ActionKind,
    Change,
    ConflictPolicy,
    ContentKind,
    DeletePolicy,
    FileNames,
    Keep,
    Mode,
    Side,
)


@dataclass(frozen=True)
class Local:
    """A page as the docs folder has it. ``title`` is what the file says its title is."""

    path: str
    parent: str | None
    md_hash: str | None
    title: str
    page_id: str | None = None  # from front matter, if the file names its page
    kind: str = "page"
    order: int | None = None  # front matter 'order:'


@dataclass(frozen=True)
class Remote:
    """A page as Confluence lists it (no body)."""

    id: str
    title: str
    parent_id: str | None
    version: int
    kind: str = "page"
    source: str | None = None  # the file mdsync last wrote it from (from the version message)
    position: int | None = None  # its place among its siblings


@dataclass(frozen=True)
class Options:
    mode: Mode = Mode.SYNC
    on_conflict: ConflictPolicy = ConflictPolicy.AUTO
    delete: DeletePolicy = DeletePolicy.KEEP
    max_delete_share: float | None = 0.2
    max_delete_count: int | None = None
    force: bool = False  # push: overwrite pages changed in Confluence
    only: tuple[str, ...] = ()  # limit to these paths (and folders)
    isolate_problems: bool = False  # skip the files at fault instead of stopping the run (watch)
    root_file: str | None = None  # the docs folder's own index file: the body of the root page
    root_file_allowed: bool = True  # False: writing it would overwrite the space's home page, not asked for
    filenames: FileNames = FileNames.SLUG  # how a page made in Confluence names its new file (pull.filenames)
    keep: Keep | None = None  # mdsync resolve: the side that becomes the agreed version of the files in ``only``


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    path: str
    page_id: str | None = None
    parent: str | None = None  # local path of the parent page (None: the tree's root)
    new_path: str | None = None  # for renames and new files
    reason: str = ""
    retitle: bool = False
    move: bool = False
    depth: int = 0  # how many pages above it in the tree: parents are written first
    changes: frozenset[Change] = frozenset()  # what changed since the last sync, and where
    # Adopt the page only if it holds what the file converts to (checked as the action runs):
    # a page of the file's title under its parent, which no version message ties to the file.
    needs_same_body: bool = False
    # ... or a body an earlier run sent for the file (storage hashes) and was killed before
    # recording: the page is then adopted, and updated to the file.
    made_as: tuple[str, ...] = ()
    order: tuple[str, ...] = ()  # reorder, pull_order: the sibling files in the order to give their pages or files
    # merge: where both sides changed the same lines, conflict markers go into the file
    # (on_conflict: merge); else the file stays as it is with Confluence's copy beside it.
    markers: bool = False
    resolvable: bool = False  # conflict, merge: changed on both sides, which `mdsync resolve` settles

    @property
    def writes_remote(self) -> bool:
        if self.kind == ActionKind.RENAME:
            return self.retitle or self.move
        return ACTIONS[ActionKind(self.kind)].writes in (Side.REMOTE, Side.BOTH)

    @property
    def writes_local(self) -> bool:
        return ACTIONS[ActionKind(self.kind)].writes in (Side.LOCAL, Side.BOTH)


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # reasons to stop before writing anything

    def of(self, *kinds: str) -> list[Action]:
        return [action for action in self.actions if action.kind in kinds]

    @property
    def conflicts(self) -> list[Action]:
        return self.of("conflict")


def plan(local: Mapping[str, Local], remote: Mapping[str, Remote], state: Mapping[str, FileState], *,
         root_id: str, options: Options, outside_titles: Mapping[str, str] | None = None,
         unreadable: Collection[str] = (), agreed: Mapping[str, FileState] | None = None,
         attachments_changed: Collection[str] = (), archived: Collection[str] = (),
         root: Remote | None = None, sent: Mapping[str, Sequence[Sent]] | None = None) -> Plan:
    """Decide what to do. ``remote`` holds the tree under the root page (root excluded).

    ``outside_titles``: lower-cased title -> page id of pages in the space outside the tree,
    which a file may not take. ``unreadable``: files that exist but cannot be read now (bad
    front matter, invalid UTF-8): they are left alone, never taken for deleted. ``agreed``:
    files changed here whose pages changed in Confluence to the very same thing, with the
    state entry that says so: they are in step (an ``agree`` action records it).
    ``attachments_changed``: files whose attachments changed here though their text did not.
    ``archived``: ids of the space's archived pages (not in the tree, not deleted either).
    ``root``: the root page itself, whose body ``options.root_file`` is. ``sent``: the
    page writes sent and never recorded (a killed run's), by path.
    """
    result = Plan()
    for path, entry in sorted((agreed or {}).items()):
        result.actions.append(Action(ActionKind.AGREE, path, entry.page_id,
                                     reason="already the same here and in Confluence"))
    state = {**state, **(agreed or {})}
    # The file of the root page (tracked as such, or the docs folder's index file) is planned
    # on its own: the root page is never created, moved, retitled or trashed.
    root_paths = {path for path, entry in state.items() if entry.page_id == root_id}
    if options.root_file is not None:
        root_paths.add(options.root_file)
    for path in sorted(root_paths):
        if path not in unreadable and selector(options.only)(path):
            result.actions.append(_root_action(path, state.get(path), local.get(path), root, root_id, options, result))
    local = {path: doc for path, doc in local.items() if path not in root_paths}
    state = {path: entry for path, entry in state.items() if path not in root_paths}
    by_page = {entry.page_id: path for path, entry in state.items()}
    renames = _renames(local, {path: entry for path, entry in state.items() if path not in unreadable}, remote)
    renamed_from = {old for old in renames.values()}
    claimed_remote: set[str] = set(by_page)
    selected = selector(options.only)
    files_under = _files_under(local)
    taken = {path.lower() for path in (*local, *state, *unreadable)}  # paths in use, case-folded
    taken |= {folder.lower() + "/" for folder in files_under}  # and their folders
    taken |= {folder_of(path).lower() + "/" for path in (*local, *state) if not path.endswith("/")}
    # Folders new in Confluence get their places first: a page moved into one follows it there.
    new_folders = _new_folder_paths(remote, root_id, by_page, taken, options.filenames)
    placed = {**by_page, **new_folders}

    # Tracked files.
    for path, entry in sorted(state.items()):
        if path in renamed_from or path in unreadable:
            continue
        if not selected(path):
            continue
        here = local.get(path)
        there = remote.get(entry.page_id)
        result.actions.append(_tracked(path, entry, here, there, local, state, root_id, options,
                                       path in attachments_changed, placed, files_under,
                                       archived_there=there is None and entry.page_id in archived))

    # Renamed and moved files keep their page.
    for new_path, old_path in sorted(renames.items()):
        if not (selected(new_path) or selected(old_path)):
            continue
        entry = state[old_path]
        here = local[new_path]
        there = remote.get(entry.page_id)
        folder_only = here.md_hash is None  # a folder page with no file: its page keeps title and body
        retitle = here.title != entry.title and not folder_only
        move = entry.kind != ContentKind.BLOGPOST and \
            parent_id_of(here.parent, local, state, root_id) != entry.parent_id
        changed = here.md_hash != entry.md_hash and not folder_only
        if options.mode == "pull":
            result.actions.append(Action("local_only", new_path, entry.page_id, reason="renamed here; push to rename "
                                         "the page"))
            continue
        if there is not None and there.version != entry.version and not options.force \
                and options.keep in (None, Keep.REMOTE):
            result.actions.append(Action("conflict", new_path, entry.page_id, here.parent, old_path,
                                         reason="renamed here and changed in Confluence"))
            continue
        result.actions.append(Action("rename", old_path, entry.page_id, here.parent, new_path,
                                     reason="update" if changed else "", retitle=retitle, move=move))

    # New files. A page an earlier run made from the file but never recorded (it died first)
    # is adopted, not made twice: one whose version message names the file; else one of the
    # file's title under its parent, adopted only if it holds what the file converts to.
    by_source = {page.source: page for page in remote.values() if page.id not in claimed_remote and page.source}
    by_place = {(page.kind, page.title.lower(), page.parent_id): page for page in remote.values()
                if page.id not in claimed_remote}
    adopted: dict[str, str] = {}  # path -> page id, for the files under an adopted page
    new_files = [path for path in local if path not in state and path not in renames and selected(path)]
    # A run limited to a new or moved file (watch, or `push FILE`) makes its new folders' pages
    # too: the file's page is created (or moved, a phase later) under them.
    chosen = set(new_files)
    moved_in = [new for new, old in renames.items() if options.only and (selected(new) or selected(old))]
    for path in [*new_files, *moved_in]:
        parent = local[path].parent
        while parent is not None and parent in local and parent not in state and parent not in renames \
                and parent not in chosen:
            chosen.add(parent)
            new_files.append(parent)
            parent = local[parent].parent
    only_archived = _holding_only_archived(local, state, archived) if archived else set()
    for path in sorted(new_files, key=lambda path: (_depth_of(path, local), path)):
        doc = local[path]
        if path in only_archived:
            result.actions.append(Action(ActionKind.ARCHIVED, path, reason="holds only pages archived in Confluence: "
                                         "not made again there"))
            continue
        parent_id = root_id if doc.parent is None else adopted.get(doc.parent) or _page_of(doc.parent, state, renames)
        page, needs_same_body, made_as = _made_before(path, doc, parent_id, remote, by_source, by_place, sent or {},
                                                      claimed_remote)
        if page is not None:
            claimed_remote.add(page.id)
            adopted[path] = page.id
            reason = "created by an earlier run" if not needs_same_body else "created by an earlier run that " \
                "stopped before recording it" if made_as else "a page of its title under its parent, made by an " \
                "earlier run"
            kind = ActionKind.LINK if options.mode == "pull" else ActionKind.ADOPT
            result.actions.append(Action(kind, path, page.id, doc.parent, needs_same_body=needs_same_body,
                                         made_as=made_as, reason=reason))
        elif options.mode == "pull":
            result.actions.append(Action("local_only", path, reason="new here; push to create its page"))
        else:
            result.actions.append(Action("create", path, None, doc.parent))

    # Pages new in Confluence get files, parents first, named after their titles; folders
    # get directories.
    new_paths: dict[str, str] = {}
    for page in _top_down(remote, root_id):
        if page.id in claimed_remote:
            continue
        if options.mode == "push":
            result.actions.append(Action("remote_only", page.title, page.id, reason="created in Confluence; pull to "
                                         "get a file for it"))
            continue
        parent_path = None if page.parent_id == root_id else \
            by_page.get(page.parent_id or "") or new_paths.get(page.parent_id or "")
        if page.parent_id != root_id and parent_path is None:
            continue  # under a page that is not in the tree any more
        if page.kind == ContentKind.FOLDER:
            if page.id not in new_folders:
                continue
            path = new_folders[page.id]
        else:
            folder = folder_of(parent_path) if parent_path else ""
            path = unique_path(folder, page_stem(page.title, options.filenames, page.id), ".md", taken, page.id)
            taken.add(path.lower())
        new_paths[page.id] = path
        if selected(path):
            result.actions.append(Action("new_file", path, page.id, parent_path, reason="created in Confluence"))

    pulled_new = {action.path: (action.parent, remote[action.page_id]) for action in result.actions
                  if action.kind == ActionKind.NEW_FILE and action.page_id in remote
                  and remote[action.page_id].kind == ContentKind.PAGE}
    if options.keep is None:  # a resolve run settles its files' text, nothing around them
        result.actions.extend(_order_actions(local, remote, state, renames, root_id, options, selected, archived,
                                             pulled_new))
    _check_titles(result, local, state, renames, outside_titles or {}, options)
    _check_deletes(result, state, options)
    new_parents = {action.path: action.parent for action in result.actions}  # once: per action it was N²
    result.actions = [replace(action, depth=_depth(action, local, new_parents)) for action in result.actions]
    result.actions.sort(key=_order)
    return result


def _order_actions(local: Mapping[str, Local], remote: Mapping[str, Remote], state: Mapping[str, FileState],
                   renames: Mapping[str, str], root_id: str, options: Options, selected: Callable[[str], bool],
                   archived: Collection[str], pulled_new: Mapping[str, tuple[str | None, Remote]]) -> list[Action]:
    """Sibling order, for each folder where a file says a place (``siblings``). Files and pages
    take part; a directory without an index file (it has no file to say a place in) and a page
    archived in Confluence do not. Against the order last agreed (positions in the state):
    changed here only (a file's place changed, or a file is new or moved in), the pages are
    put in the files' order; changed in Confluence only (pages dragged, or a page made there),
    the files take Confluence's order; both, a conflict the policy settles. In step: nothing,
    and no request."""
    groups: dict[str | None, list[str]] = {}
    for path, doc in local.items():
        entry = state.get(renames.get(path, path))
        if doc.kind == ContentKind.PAGE and not path.endswith("/") and not (entry and entry.page_id in archived):
            groups.setdefault(doc.parent, []).append(path)
    for path, (parent, _) in pulled_new.items():  # pages new in Confluence: their files come this run
        groups.setdefault(parent, []).append(path)
    actions = []
    for parent, members in sorted(groups.items(), key=lambda item: item[0] or ""):
        places = {path: siblings.place_of(path, local[path].order) if path in local else None for path in members}
        if all(place is None for place in places.values()) or not any(selected(path) for path in members):
            continue
        parent_id = parent_id_of(parent, local, state, root_id)
        entries = {path: state[renames.get(path, path)] for path in members if renames.get(path, path) in state}
        current = {path: remote[entry.page_id] for path, entry in entries.items() if entry.page_id in remote}
        current.update({path: page for path, (_, page) in pulled_new.items() if path in places})
        placed = {path: page.position for path, page in current.items()
                  if page.parent_id == parent_id and page.position is not None}
        now = sorted(placed, key=lambda path: placed[path] or 0)
        wanted = siblings.in_order([path for path in members if path not in pulled_new], places)
        agreed = sorted((path for path in placed if path in entries and entries[path].position is not None),
                        key=lambda path: entries[path].position or 0)
        reordered_there = bool(pulled_new.keys() & set(members)) or agreed != [path for path in now if path in agreed]
        reordered_here = any(places[path] != siblings.place_of(renames.get(path, path), entries[path].order)
                             for path in entries)
        unplaced = [path for path in wanted if path not in placed]
        if not unplaced and not reordered_there and now == wanted:
            continue
        label = (folder_of(parent) + "/*") if parent else "*"
        pull_order = Action(ActionKind.PULL_ORDER, label, parent_id, parent, order=tuple(now),
                            reason="the pages were reordered in Confluence")
        reorder = Action(ActionKind.REORDER, label, parent_id, parent, order=tuple(wanted),
                         reason="in the order the files say")
        if reordered_there and reordered_here:
            policy = ConflictPolicy.LOCAL if options.mode == "push" and options.force else options.on_conflict
            if policy == ConflictPolicy.LOCAL and options.mode != "pull":
                actions.append(replace(reorder, reason="the files' order wins (on_conflict: local)"))
            elif policy == ConflictPolicy.REMOTE and options.mode != "push":
                actions.append(replace(pull_order, reason="Confluence's order wins (on_conflict: remote)"))
            else:
                actions.append(Action(ActionKind.CONFLICT, label, parent_id, parent, reason=(
                    "the order of these pages changed here and in Confluence: 'mdsync push --force' keeps the "
                    "files' order, 'mdsync sync --on-conflict remote' takes Confluence's")))
        elif reordered_there:
            if options.mode == "push" and not options.force:
                actions.append(Action(ActionKind.REMOTE_ONLY, label, parent_id, parent,
                                      reason="the order of these pages changed in Confluence; pull to take it"))
            elif options.mode == "push":
                actions.append(replace(reorder, reason="overwrites the order changed in Confluence"))
            else:
                actions.append(pull_order)
        elif options.mode == "pull":
            actions.append(Action(ActionKind.LOCAL_ONLY, label, parent_id, parent,
                                  reason="the order of these files changed here; push to apply it"))
        else:
            actions.append(reorder)
    return actions


def _root_action(path: str, entry: FileState | None, here: Local | None, root: Remote | None, root_id: str,
                 options: Options, result: Plan) -> Action:
    if entry is None:
        if options.mode == "pull":
            return Action(ActionKind.LOCAL_ONLY, path, root_id, reason="new here; push to write it as the body of "
                          "the page that holds the tree")
        if not options.root_file_allowed:
            result.problems.append(f"{path} is the body of the page that holds the tree, here the space's home page "
                                   f"'{root.title if root else root_id}': run again with --allow-home to overwrite it "
                                   "(or set home_page: write in mdsync.yaml), or set 'parent' in mdsync.yaml.")
        return Action(ActionKind.ADOPT, path, root_id, reason="the body of the page that holds the tree")
    if here is None:
        return Action(ActionKind.FORGET, path, root_id, reason="deleted here; the page that holds the tree stays "
                      "as it is")
    local_changed = here.md_hash != entry.md_hash
    remote_changed = root is not None and root.version != entry.version
    changes = frozenset([Change.HERE] * local_changed + [Change.THERE] * remote_changed)
    mode = options.mode
    if (local_changed or remote_changed) and (keep := _keeping(options, local_changed)) is not None:
        action = _kept(path, root_id, None, keep)
    elif local_changed and not remote_changed:
        action = Action(ActionKind.LOCAL_ONLY, path, root_id, reason="changed here; push to publish") \
            if mode == "pull" else Action(ActionKind.UPDATE, path, root_id)
    elif remote_changed and not local_changed:
        action = Action(ActionKind.PULL, path, root_id, reason="changed in Confluence") if mode != "push" else \
            Action(ActionKind.UPDATE, path, root_id, reason="overwrites the Confluence change") if options.force \
            else Action(ActionKind.REMOTE_ONLY, path, root_id, reason="changed in Confluence; pull to get it")
    elif local_changed:
        action = _changed_on_both_sides(path, root_id, None, options)
    else:
        action = Action(ActionKind.NOOP, path, root_id)
    return replace(action, changes=changes)


def _new_folder_paths(remote: Mapping[str, Remote], root_id: str, by_page: Mapping[str, str],
                      taken: set[str], style: FileNames) -> dict[str, str]:
    """Directories for the folders new in Confluence (page id -> ``name/``), parents first."""
    paths: dict[str, str] = {}
    for page in _top_down(remote, root_id):
        if page.kind != ContentKind.FOLDER or page.id in by_page:
            continue
        parent_path = None if page.parent_id == root_id else \
            by_page.get(page.parent_id or "") or paths.get(page.parent_id or "")
        if page.parent_id != root_id and parent_path is None:
            continue  # under a page with no file here (yet): it comes with that page
        stem = page_stem(page.title, style, page.id)
        path = unique_path(folder_of(parent_path) if parent_path else "", stem, "/", taken, page.id)
        taken.add(path.lower())
        paths[page.id] = path
    return paths


def _holding_only_archived(local: Mapping[str, Local], state: Mapping[str, FileState],
                           archived: Collection[str]) -> set[str]:
    """Folder entries (``x/``) whose files are all tracked pages now archived: what is left
    here of a folder or page trashed in Confluence, which must not be made again."""
    files: dict[str, int] = {}
    kept: dict[str, int] = {}
    for path in local:
        if path.endswith("/"):
            continue
        gone = path in state and state[path].page_id in archived
        folder = posixpath.dirname(path)
        while folder:
            files[folder] = files.get(folder, 0) + 1
            kept[folder] = kept.get(folder, 0) + gone
            folder = posixpath.dirname(folder)
    return {path for path in local if path.endswith("/") and files.get(path.rstrip("/"), 0)
            and kept.get(path.rstrip("/"), 0) == files[path.rstrip("/")]}


def _files_under(local: Iterable[str]) -> dict[str, int]:
    """How many files each folder holds, at any depth (a folder entry "x/" counts under "x")."""
    counts: dict[str, int] = {}
    for path in local:
        folder = posixpath.dirname(path)
        while folder:
            counts[folder] = counts.get(folder, 0) + 1
            folder = posixpath.dirname(folder)
    return counts


def _depth(action: Action, local: Mapping[str, Local], new_parents: Mapping[str, str | None]) -> int:
    depth, parent, seen = 0, action.parent, set()
    while parent is not None and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = local[parent].parent if parent in local else new_parents.get(parent)
    return depth


def _tracked(path: str, entry: FileState, here: Local | None, there: Remote | None, local: Mapping[str, Local],
             state: Mapping[str, FileState], root_id: str, options: Options, attachments_changed: bool,
             by_page: Mapping[str, str], files_under: Mapping[str, int], archived_there: bool = False) -> Action:
    local_changed = here is not None and (here.md_hash != entry.md_hash or here.title != entry.title)
    remote_changed = there is not None and (there.version != entry.version or there.parent_id != entry.parent_id)
    action = _decide(path, entry, here, there, local, state, root_id, options, local_changed, remote_changed,
                     by_page, files_under, archived_there)
    if action.kind == ActionKind.NOOP and attachments_changed:
        # The text is in step but an image or linked file changed here: the page is not.
        local_changed = True
        action = Action("local_only", path, entry.page_id, action.parent,
                        reason="an attachment changed here; push to publish") if options.mode == "pull" else \
            Action("update", path, entry.page_id, action.parent, reason="an attachment changed")
    changes = frozenset([Change.HERE] * local_changed + [Change.THERE] * remote_changed)
    return replace(action, changes=changes)


def _decide(path: str, entry: FileState, here: Local | None, there: Remote | None, local: Mapping[str, Local],
            state: Mapping[str, FileState], root_id: str, options: Options, local_changed: bool,
            remote_changed: bool, by_page: Mapping[str, str], files_under: Mapping[str, int],
            archived_there: bool) -> Action:
    mode = options.mode
    # Blog posts hang under the space, not the tree: they never move.
    moved_here = here is not None and entry.kind != ContentKind.BLOGPOST and \
        parent_id_of(here.parent, local, state, root_id) != entry.parent_id
    parent = here.parent if here is not None else None

    if here is None and there is None:
        return Action("forget", path, entry.page_id, reason="gone on both sides")
    if here is None:  # deleted here
        if mode == "pull":
            return Action("local_only", path, entry.page_id, reason="deleted here; push or sync to trash its page")
        if remote_changed and options.keep == Keep.REMOTE:  # the file comes back as Confluence has it
            return _kept(path, entry.page_id, None, Keep.REMOTE)
        if remote_changed and not options.force:
            return Action("conflict", path, entry.page_id, reason="deleted here but changed in Confluence")
        if options.delete == "trash":
            return Action("trash", path, entry.page_id, reason="deleted here")
        return Action("keep", path, entry.page_id, reason="deleted here; the page is kept (sync.delete: keep)")
    if there is None and archived_there:
        # Not deleted: the page (or its parent) was archived. The file stays, and is never
        # pushed as a new page: the archived page keeps its title.
        return Action(ActionKind.ARCHIVED, path, entry.page_id, parent,
                      reason="its page was archived in Confluence: the file is kept and not published; restore "
                             "the page in Confluence to sync it again, or delete the file and run 'mdsync sync'")
    if there is None:  # trashed in Confluence (or moved out of the tree)
        if mode == "push":
            return Action("remote_only", path, entry.page_id, reason="its page was deleted in Confluence; pull to "
                          "remove the file")
        if local_changed:
            return Action("conflict", path, entry.page_id, parent, reason="changed here but deleted in Confluence")
        return Action("remove_file", path, entry.page_id, reason="its page was deleted in Confluence")
    if not local_changed and not remote_changed:
        if moved_here and mode != "pull":
            return Action("move", path, entry.page_id, parent, reason="moved here")
        return Action("noop", path, entry.page_id, parent)
    folder = folder_of(path)
    holds_children = files_under.get(folder, 0) > path.startswith(folder + "/")  # files other than itself
    if remote_changed and not local_changed and there.parent_id != entry.parent_id and mode != "push" \
            and not path.endswith("/") and not holds_children:
        # Moved in Confluence: the file follows its page to the new parent's folder.
        new_parent = None if there.parent_id == root_id else by_page.get(there.parent_id or "")
        if there.parent_id == root_id or new_parent is not None:
            folder = folder_of(new_parent) if new_parent else ""
            new_path = posixpath.join(folder, posixpath.basename(path)) if folder else posixpath.basename(path)
            if new_path != path and new_path not in local:
                return Action("pull", path, entry.page_id, new_parent, new_path, reason="moved in Confluence")
    if remote_changed and there.parent_id != entry.parent_id and not moved_here and mode != "push" \
            and not options.force:
        # Its file cannot follow (the place is taken, or the new parent has no file): say so,
        # rather than record the move and have the next push quietly move the page back.
        return Action("conflict", path, entry.page_id, parent,
                      reason="moved in Confluence where its file cannot follow: move the file (or its folder) "
                             "there by hand, or push --force to move the page back")
    if (keep := _keeping(options, local_changed)) is not None:
        return _kept(path, entry.page_id, parent, keep, moved_here)
    if local_changed and not remote_changed:
        if mode == "pull":
            return Action("local_only", path, entry.page_id, parent, reason="changed here; push to publish")
        return Action("update", path, entry.page_id, parent, move=moved_here, retitle=here.title != entry.title)
    if remote_changed and not local_changed:
        if mode == "push":
            if options.force:
                return Action("update", path, entry.page_id, parent, reason="overwrites the Confluence change",
                              move=moved_here)
            return Action("remote_only", path, entry.page_id, parent, reason="changed in Confluence; pull to get it")
        return Action("pull", path, entry.page_id, parent, reason="changed in Confluence")
    return _changed_on_both_sides(path, entry.page_id, parent, options, moved_here)


def _changed_on_both_sides(path: str, page_id: str, parent: str | None, options: Options,
                           moved_here: bool = False) -> Action:
    """What the policy says for a file changed here and in Confluence since the last sync."""
    mode = options.mode
    if mode == "push" and (options.force or options.on_conflict == "local"):
        return Action("update", path, page_id, parent, reason="overwrites the Confluence change",
                      move=moved_here)
    if mode != "push" and options.on_conflict == "local":
        return Action("update", path, page_id, parent, reason="local wins (on_conflict: local)", move=moved_here)
    if mode != "push" and options.on_conflict == "remote":
        return Action("pull", path, page_id, parent, reason="Confluence wins (on_conflict: remote)")
    if mode != "push" and options.on_conflict in (ConflictPolicy.MERGE, ConflictPolicy.AUTO):
        return Action("merge", path, page_id, parent, reason="changed on both sides", resolvable=True,
                      markers=options.on_conflict == ConflictPolicy.MERGE)
    return Action("conflict", path, page_id, parent, reason="changed here and in Confluence", resolvable=True)


KEPT = {  # what a resolve run does with each side it may keep
    Keep.MERGED: "resolved: the file as merged is pushed as the agreed version",
    Keep.LOCAL: "resolved: the file is pushed as it is, overwriting Confluence's edit",
    Keep.REMOTE: "resolved: Confluence's version is written into the file, discarding the edit here",
}


def _keeping(options: Options, local_changed: bool) -> Keep | None:
    """The side a resolve run makes the agreed version of a changed file. A file unchanged here
    holds no merge: resolved as merged, it takes Confluence's edit as a sync would."""
    keep = options.keep
    return keep if keep is not None and (local_changed or keep != Keep.MERGED) else None


def _kept(path: str, page_id: str, parent: str | None, keep: Keep, moved_here: bool = False) -> Action:
    """A resolve run: the side the user chose becomes the agreed version, whichever sides changed."""
    if keep == Keep.REMOTE:
        return Action("pull", path, page_id, parent, reason=KEPT[keep])
    return Action("update", path, page_id, parent, reason=KEPT[keep], move=moved_here)


def _made_before(path: str, doc: Local, parent_id: str | None, by_id: Mapping[str, Remote],
                 by_source: Mapping[str, Remote],
                 by_place: Mapping[tuple[str, str, str | None], Remote],
                 sent: Mapping[str, Sequence[Sent]], claimed: Collection[str]
                 ) -> tuple[Remote | None, bool, tuple[str, ...]]:
    """The page an earlier run made from a new file, if one is found: the page, whether its
    body must be checked as the action runs, and the hashes of the bodies killed runs sent.

    First the page whose version message names the file; then the page the last write noted
    for the file made (under the title and parent it was given: the file may have changed
    since) or updated; then a page of the file's title under its parent."""
    page = by_source.get(path)
    if page is not None and page.title.lower() == doc.title.lower() and page.id not in claimed:
        return page, False, ()
    notes = sent.get(path, ())
    for note in notes:
        # A create names no page; an update (of a page adopted and never recorded) does.
        page = by_place.get((note.kind, note.title.lower(), note.parent_id)) if note.page_id is None else \
            by_id.get(note.page_id)
        if page is not None and page.id not in claimed:
            return page, True, tuple(note.storage_hash for note in notes)
    page = by_place.get((doc.kind, doc.title.lower(), parent_id))
    return (page, True, ()) if page is not None and page.id not in claimed else (None, False, ())


def resync_matches(local: Mapping[str, Local], remote: Mapping[str, Remote]) -> dict[str, Remote]:
    """For a resync: the page each file stands for, by title (a space holds one page per title)."""
    def key(kind: str, title: str) -> tuple[bool, str]:  # a folder stands for a folder, a file for a page
        return kind == ContentKind.FOLDER, title.lower()

    by_title = {key(page.kind, page.title): page for page in remote.values()}
    return {path: by_title[key(doc.kind, doc.title)] for path, doc in local.items()
            if key(doc.kind, doc.title) in by_title}


def _depth_of(path: str, local: Mapping[str, Local]) -> int:
    """How many files are above a file in the tree (so parents are looked at first)."""
    return _depth(Action(ActionKind.NOOP, path, parent=local[path].parent), local, {})


def _page_of(path: str, state: Mapping[str, FileState], renames: Mapping[str, str]) -> str | None:
    """The page id of a tracked file (or of the file it was renamed from), None if it has none yet."""
    entry = state.get(renames.get(path, path))
    return entry.page_id if entry is not None else None


def _top_down(remote: Mapping[str, Remote], root_id: str) -> list[Remote]:
    """Pages ordered so that every page comes after its parent."""
    children: dict[str | None, list[Remote]] = {}
    for page in remote.values():
        children.setdefault(page.parent_id, []).append(page)
    ordered: list[Remote] = []
    pending = sorted(children.get(root_id, []), key=lambda page: page.id, reverse=True)
    while pending:
        page = pending.pop()
        ordered.append(page)
        pending.extend(sorted(children.get(page.id, []), key=lambda child: child.id, reverse=True))
    return ordered


def parent_id_of(parent: str | None, local: Mapping[str, Local], state: Mapping[str, FileState],
               root_id: str) -> str | None:
    """The page id a local parent path stands for; '?' when that page does not exist yet."""
    if parent is None:
        return root_id
    entry = state.get(parent)
    return entry.page_id if entry is not None else "?"


def _renames(local: Mapping[str, Local], state: Mapping[str, FileState],
             remote: Mapping[str, Remote]) -> dict[str, str]:
    """new path -> old path for tracked files that moved, where the old file is gone: the
    same page id in front matter; else the same content; else the same title (a file
    renamed and edited at once: a space holds one page per title, so it is that page);
    else, for a folder whose index file was deleted, that file's page."""
    gone = {path: entry for path, entry in state.items() if path not in local}
    if not gone:
        return {}
    new = {path: doc for path, doc in sorted(local.items()) if path not in state}
    by_page = {entry.page_id: path for path, entry in gone.items()}
    by_hash = _unique_keys((entry.md_hash, path) for path, entry in gone.items() if entry.md_hash)
    by_title = _unique_keys((entry.title.strip().lower(), path) for path, entry in gone.items())
    new_titles = _unique_keys((doc.title.strip().lower(), path) for path, doc in new.items())
    by_folder = {folder_of(path): path for path in gone
                 if posixpath.basename(path) in INDEX_FILES}
    # A Cloud folder whose directory moved: by its name, where one gone folder and one new
    # directory have it.
    moved_folders = _unique_keys((posixpath.basename(path.rstrip("/")).lower(), path) for path, entry in gone.items()
                                 if entry.kind == ContentKind.FOLDER)
    new_folders = _unique_keys((posixpath.basename(path.rstrip("/")).lower(), path) for path, doc in new.items()
                               if doc.kind == ContentKind.FOLDER)
    found: dict[str, str] = {}
    for path, doc in new.items():
        old = by_page.get(doc.page_id or "")
        if old is None and doc.md_hash is not None:
            old = by_hash.get(doc.md_hash)
        title = doc.title.strip().lower()
        if old is None and doc.md_hash is not None and new_titles.get(title) == path:
            old = by_title.get(title)
        if old is None and doc.md_hash is None:  # a folder page with no file of its own
            old = by_folder.get(path.rstrip("/"))
        name = posixpath.basename(path.rstrip("/")).lower()
        if old is None and doc.kind == ContentKind.FOLDER and new_folders.get(name) == path:
            old = moved_folders.get(name)
        if old is not None and old not in found.values() and state[old].kind == doc.kind:
            found[path] = old
    return found


def _unique_keys(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """key -> value for the keys that occur once."""
    seen: dict[str, str | None] = {}
    for key, value in pairs:
        seen[key] = value if key not in seen else None
    return {key: value for key, value in seen.items() if value is not None}


def _check_titles(result: Plan, local: Mapping[str, Local], state: Mapping[str, FileState],
                  renames: Mapping[str, str], outside: Mapping[str, str], options: Options) -> None:
    """Two files with one title, or a file taking a title used outside the tree, stop the run;
    with ``isolate_problems`` (watch) only the files at fault are skipped."""
    clashes: list[tuple[list[str], str]] = []

    def keeps_title(path: str) -> bool:  # the file already owns its page under this title
        tracked = state.get(renames.get(path, path))
        return tracked is not None and tracked.title.strip().lower() == local[path].title.strip().lower()

    # A folder's title never clashes with a page's; two folders of one title do clash.
    pages = [(path, doc.title) for path, doc in sorted(local.items()) if doc.kind != ContentKind.FOLDER]
    folders = [(path, doc.title) for path, doc in sorted(local.items()) if doc.kind == ContentKind.FOLDER]
    for first, *others in same_titles(pages):
        for path in others:
            at_fault = [other for other in (first, path) if not keeps_title(other)] or [first, path]
            clashes.append((at_fault, f"'{first}' and '{path}' both have the title '{local[path].title}': titles "
                                      "must be unique in a Confluence space; change one (front matter 'title:' or "
                                      "its heading)."))
    for first, *others in same_titles(folders):
        for path in others:
            at_fault = [other for other in (first, path) if not keeps_title(other)] or [first, path]
            clashes.append((at_fault, f"'{first}' and '{path}' would be two Confluence folders titled "
                                      f"'{local[path].title}', which a space does not allow: rename one of them, or "
                                      "give it an index.md."))
    for path, doc in sorted(local.items()):
        if doc.kind == ContentKind.FOLDER:
            continue  # folders outside the tree are not listed; Confluence refuses a clash on create
        key = doc.title.strip().lower()
        tracked = state.get(renames.get(path, path))
        if key in outside and (tracked is None or tracked.page_id != outside[key]):
            clashes.append(([path], f"'{path}' has the title '{doc.title}', which a page outside the synced tree "
                                    "(or an archived page) already uses: rename the file's title or move that page "
                                    "into the tree."))
    if not options.isolate_problems:
        result.problems.extend(message for _, message in clashes)
        return
    blocked = {path: message for paths, message in clashes for path in paths}
    result.actions = [action for action in result.actions
                      if action.path not in blocked and (action.new_path or "") not in blocked]
    result.actions.extend(Action("skip", path, reason=message) for path, message in sorted(blocked.items()))


SMALL_TREE = 10  # below this many pages a share says little (1 of 1 is 100%): a share lets 2 go
SMALL_TREE_DELETES = 2


def _check_deletes(result: Plan, state: Mapping[str, FileState], options: Options) -> None:
    """The safety stop, for pages a run would trash and for local files it would remove alike
    (a listing that leaves pages out, as view restrictions or a proxy can, looks like their
    deletion in Confluence)."""
    total = max(1, len(state))
    for kind, things, where in (("trash", "pages", "trash"), ("remove_file", "files", "remove")):
        count = sum(1 for action in result.of(kind) if not action.path.endswith("/"))
        if not count or not _too_many(count, total, options):
            continue
        limit = f"{options.max_delete_count} {things}" if options.max_delete_count is not None else \
            f"{options.max_delete_share:.0%} of the {things}"
        if options.max_delete_count is None and total < SMALL_TREE:
            limit += f", or {SMALL_TREE_DELETES} in a tree of fewer than {SMALL_TREE}"
        advice = "delete in smaller steps" if kind == "trash" else \
            "check that Confluence still shows those pages to you (view restrictions hide them)"
        result.problems.append(f"This run would {where} {count} of {len(state)} {things}, more than "
                               f"sync.max_delete allows ({limit}): if that is right, run again with "
                               f"--max-delete {count} to allow it (or raise sync.max_delete); else {advice}.")


def _too_many(count: int, total: int, options: Options) -> bool:
    """A count is the count; a share applies from SMALL_TREE pages up, and below that lets
    SMALL_TREE_DELETES go (deleting the only page of a one-page tree is no emergency)."""
    if options.max_delete_count is not None:
        return count > options.max_delete_count
    if options.max_delete_share is None or (total < SMALL_TREE and count <= SMALL_TREE_DELETES):
        return False
    return count / total > options.max_delete_share


def selector(only: tuple[str, ...]) -> Callable[[str], bool]:
    if not only:
        return lambda path: True
    prefixes = tuple(item.rstrip("/") for item in only)

    def selected(path: str) -> bool:
        clean = path.rstrip("/")
        return any(clean == prefix or clean.startswith(prefix + "/") for prefix in prefixes)

    return selected


def order(action: Action) -> int:
    """The phase of a run an action belongs to (vocabulary.ACTIONS)."""
    return ACTIONS[ActionKind(action.kind)].order


def _order(action: Action) -> tuple[int, int, str]:
    # Parents before children when creating; children before parents when trashing or removing.
    depth = action.depth if action.kind not in (ActionKind.TRASH, ActionKind.REMOVE_FILE) else \
        -action.path.rstrip("/").count("/")
    return (order(action), depth, action.path)
