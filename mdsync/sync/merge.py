"""Three-way merge of Markdown: the base last synced, this file, and Confluence's version."""

from __future__ import annotations

from dataclasses import dataclass

from merge3 import Merge3

LOCAL_LABEL = "this file"
REMOTE_LABEL = "Confluence"


@dataclass(frozen=True)
class Merged:
    text: str
    conflicts: int  # regions both sides changed differently; 0 means a clean merge


def merge_markdown(base: str, local: str, remote: str) -> Merged:
    """Merge line by line; where both sides changed the same lines, keep both inside markers."""
    if local == remote:
        return Merged(local, 0)
    if local == base:
        return Merged(remote, 0)
    if remote == base:
        return Merged(local, 0)
    merger = Merge3(base.splitlines(True), local.splitlines(True), remote.splitlines(True))
    conflicts = sum(1 for region in merger.merge_regions() if region[0] == "conflict")
    lines = merger.merge_lines(name_a=LOCAL_LABEL, name_b=REMOTE_LABEL, start_marker="<<<<<<<",
                               mid_marker="=======", end_marker=">>>>>>>")
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if not (local.endswith("\n") or remote.endswith("\n")):
        text = text.rstrip("\n")
    return Merged(text, conflicts)


def has_conflict_markers(text: str) -> bool:
    """A file still holding merge markers must not be pushed."""
    lines = text.splitlines()
    return any(line.startswith("<<<<<<< ") for line in lines) and any(line.startswith(">>>>>>> ") for line in lines)


def first_marker_line(text: str) -> int | None:
    """The number of the first line that opens or closes a conflict region (``<<<<<<<``,
    ``>>>>>>>``), or splits one (``=======``, counted only beside the others: alone it is a
    Markdown heading's underline); None once they are all settled."""
    lines = text.splitlines()
    opening = [number for number, line in enumerate(lines, 1) if _is_marker(line, "<<<<<<<") or
               _is_marker(line, ">>>>>>>")]
    if not opening:
        return None
    splits = [number for number, line in enumerate(lines, 1) if line.rstrip() == "======="]
    return min(opening + splits)


def _is_marker(line: str, marker: str) -> bool:
    return line.startswith(marker) and (len(line) == len(marker) or line[len(marker)] in " \t")
