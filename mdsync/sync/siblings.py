"""Sibling order: where a file says its page goes among its siblings, and the fewest moves
that put the pages in that order. Pure: the planner decides an order, the engine moves.

A file's place is its front matter ``order:``, else the number its name (or its folder's,
for an index file) starts with, as docs sites sort: ``01-setup.md``, ``2_guides/``. Files
without either come after the placed ones, by name. A folder where no file says a place
keeps the order Confluence has.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence

from mdsync.docs import folder_of

_NUMBER_PREFIX = re.compile(r"(\d{1,9})(?=[-_. ])")
_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")  # 2024-03-01-release.md is dated, not placed


def place_of(path: str, order: int | None) -> int | None:
    """The file's place among its siblings, if it says one."""
    if order is not None:
        return order
    name = posixpath.basename(folder_of(path))
    match = _NUMBER_PREFIX.match(name)
    return int(match.group(1)) if match and not _DATE_PREFIX.match(name) else None


def in_order(paths: Iterable[str], places: Mapping[str, int | None]) -> list[str]:
    """The paths in the order their places say: placed ones first, the rest by name."""
    def key(path: str) -> tuple[bool, int, str, str]:
        place = places.get(path)
        return place is None, place or 0, posixpath.basename(folder_of(path)).lower(), path

    return sorted(paths, key=key)


def moves(now: Sequence[str], wanted: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(item, "before" | "after", target)`` moves that turn the order ``now`` into ``wanted``
    (both orders of the same items; others are ignored). The longest run of items already in
    the wanted order stays where it is; each other item goes after its wanted predecessor,
    in the wanted order, so every target is already in its final place."""
    wanted = [item for item in wanted if item in set(now)]
    rank = {item: index for index, item in enumerate(wanted)}
    keep = set(_longest_increasing([item for item in now if item in rank], rank))
    result: list[tuple[str, str, str]] = []
    previous: str | None = None
    first_kept = next((item for item in wanted if item in keep), None)
    for item in wanted:
        if item not in keep:
            if previous is not None:
                result.append((item, "after", previous))
            elif first_kept is not None:
                result.append((item, "before", first_kept))
        previous = item
    return result


def _longest_increasing(items: Sequence[str], rank: Mapping[str, int]) -> list[str]:
    """The longest subsequence of ``items`` whose ranks increase (patience sorting)."""
    tails: list[int] = []  # rank at the end of the best run of each length
    ends: list[int] = []  # index in items of that end
    before: list[int] = [-1] * len(items)
    for index, item in enumerate(items):
        length = bisect.bisect_left(tails, rank[item])
        if length == len(tails):
            tails.append(rank[item])
            ends.append(index)
        else:
            tails[length], ends[length] = rank[item], index
        before[index] = ends[length - 1] if length else -1
    run: list[str] = []
    index = ends[-1] if ends else -1
    while index != -1:
        run.append(items[index])
        index = before[index]
    return run[::-1]
