"""Sibling order: the place a file says, and the fewest moves that reach an order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mdsync.sync.siblings import in_order, moves, place_of


def apply(order: list[str], steps: list[tuple[str, str, str]]) -> list[str]:
    """Carry out moves as Confluence does: take the page out, put it before or after the target."""
    result = list(order)
    for item, where, target in steps:
        assert item != target
        result.remove(item)
        at = result.index(target)
        result.insert(at if where == "before" else at + 1, item)
    return result


def test_a_place_comes_from_front_matter_else_a_number_before_the_name() -> None:
    assert place_of("guides/01-intro.md", None) == 1
    assert place_of("guides/10_faq.md", None) == 10
    assert place_of("02-guides/index.md", None) == 2  # an index file: its folder's name
    assert place_of("3.setup/", None) == 3
    assert place_of("guides/01-intro.md", 7) == 7  # front matter wins
    assert place_of("2024.md", None) is None and place_of("v2-notes.md", None) is None  # a year, not a place
    assert place_of("guides/intro.md", None) is None
    assert place_of("news/2024-03-01-release.md", None) is None  # dated, as blogs name posts


def test_placed_files_come_first_then_the_rest_by_name() -> None:
    places = {"b.md": None, "a.md": None, "10-z.md": 10, "2-y.md": 2}
    assert in_order(places, places) == ["2-y.md", "10-z.md", "a.md", "b.md"]


def test_moves_keep_the_longest_run_in_order() -> None:
    assert moves(["a", "b", "c", "d"], ["a", "b", "c", "d"]) == []
    assert moves(["d", "a", "b", "c"], ["a", "b", "c", "d"]) == [("d", "after", "c")]
    assert moves(["b", "c", "d", "a"], ["a", "b", "c", "d"]) == [("a", "before", "b")]


@given(st.permutations(list("abcdefgh")), st.permutations(list("abcdefgh")))
def test_moves_reach_the_wanted_order_with_the_fewest_pages_moved(now: list[str], wanted: list[str]) -> None:
    steps = moves(now, wanted)
    assert apply(now, steps) == wanted
    # The fewest: every page outside a longest run already in order, no more.
    rank = {item: index for index, item in enumerate(wanted)}
    best = [1] * len(now)
    for i in range(len(now)):
        for j in range(i):
            if rank[now[j]] < rank[now[i]]:
                best[i] = max(best[i], best[j] + 1)
    assert len(steps) == len(now) - max(best)
