"""Pages with children moved in Confluence: the planner's first step, before the rest is planned.

Pure, like the planner: the moves found here are carried out (``pull.move_folder``) and the
docs folder read again, so every other rule of the plan sees the new layout.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from mdsync.docs import folder_of
from mdsync.sync.plan import Local, Remote, parent_id_of
from mdsync.sync.state import FileState


@dataclass(frozen=True)
class FolderMove:
    """A page with children, moved in Confluence: its folder (and a ``NAME.md`` beside it,
    if that is its file) moves to the new parent's folder, children and all."""

    page_path: str  # the page's file: guides/README.md, guides.md, or guides/ (no file)
    folder: str  # guides
    new_folder: str  # faq/guides

    def moves(self, path: str) -> bool:
        return path == self.page_path or path.startswith(self.folder + "/")

    def new_path(self, path: str) -> str:
        """Where a path under the folder, or the page's own file, ends up."""
        return self.new_folder + path[len(self.folder):]  # guides/a.md -> faq/guides/a.md, guides.md -> faq/guides.md


def folder_moves(local: Mapping[str, Local], remote: Mapping[str, Remote], state: Mapping[str, FileState], *,
                 root_id: str) -> list[FolderMove]:
    """Folder pages moved in Confluence, to a page of the tree, whose folders did not move here.

    The files follow before the rest is planned, so every other rule sees the new layout.
    A destination that is already taken is left alone: the page's move is then reported as
    a change in Confluence and nothing is overwritten.
    """
    by_page = {entry.page_id: path for path, entry in state.items()}
    moves: list[FolderMove] = []
    for path, entry in sorted(state.items(), key=lambda item: item[0].count("/")):
        here, there = local.get(path), remote.get(entry.page_id)
        if here is None or there is None or entry.kind == "blogpost" or there.parent_id == entry.parent_id:
            continue
        folder = folder_of(path)
        if not any(other.startswith(folder + "/") for other in local if other != path):
            continue  # a leaf page: its file follows as an ordinary pull
        if parent_id_of(here.parent, local, state, root_id) != entry.parent_id:
            continue  # moved here too: the planner reports that
        if any(folder.startswith(move.folder + "/") for move in moves):
            continue  # inside a folder that already moves
        new_parent = None if there.parent_id == root_id else by_page.get(there.parent_id or "")
        if new_parent is None and there.parent_id != root_id:
            continue  # moved out of the tree, or under a page with no file
        base = folder_of(new_parent) if new_parent else ""
        new_folder = posixpath.join(base, posixpath.basename(folder)) if base else posixpath.basename(folder)
        if new_folder == folder or new_folder.startswith(folder + "/"):
            continue
        taken = any(other == new_folder + ".md" or other.startswith(new_folder + "/") for other in local)
        if not taken:
            moves.append(FolderMove(path, folder, new_folder))
    return moves
