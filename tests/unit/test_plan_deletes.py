"""The planner's delete safety stop, for pages trashed and files removed alike: a count is a
count; a share applies from 10 pages up, and below that 2 may go. No I/O."""

from __future__ import annotations

import pytest

from mdsync.sync.plan import Local, Options, Remote, plan
from mdsync.sync.state import FileState
from mdsync.vocabulary import DeletePolicy

ROOT = "100"


def tree(pages: int) -> tuple[dict[str, FileState], dict[str, Local], dict[str, Remote]]:
    state = {f"p{n}.md": FileState(page_id=str(n), title=f"P{n}", parent_id=ROOT, version=1, md_hash=f"h{n}",
                                   storage_hash="s") for n in range(pages)}
    local = {path: Local(path, None, entry.md_hash, entry.title) for path, entry in state.items()}
    remote = {entry.page_id: Remote(entry.page_id, entry.title, ROOT, 1) for entry in state.values()}
    return state, local, remote


def stopped(kind: str, pages: int, gone: int, **limits: object) -> list[str]:
    """The problems of a run that would trash ``gone`` pages (files deleted here) or remove
    ``gone`` files (pages deleted in Confluence) of a tree of ``pages``."""
    state, local, remote = tree(pages)
    paths = sorted(state)[:gone]
    if kind == "trash":
        local = {path: doc for path, doc in local.items() if path not in paths}
    else:
        remote = {page_id: page for page_id, page in remote.items() if f"p{page_id}.md" not in paths}
    options = Options(delete=DeletePolicy.TRASH, **limits)  # type: ignore[arg-type]
    result = plan(local, remote, state, root_id=ROOT, options=options)
    assert len(result.of(kind)) == gone
    return result.problems


@pytest.mark.parametrize("kind", ["trash", "remove_file"])
def test_a_share_applies_from_ten_pages_up_and_below_that_two_may_go(kind: str) -> None:
    share = {"max_delete_share": 0.1}
    assert not stopped(kind, 1, 1, **share)  # the only page of a one-page tree
    assert not stopped(kind, 9, 2, **share)  # 22% of 9, but a tree under 10
    [problem] = stopped(kind, 9, 3, **share)
    assert "of fewer than 10" in problem and "--max-delete 3" in problem
    [problem] = stopped(kind, 10, 2, **share)  # 20% of 10: the share applies
    assert "10% of the" in problem and "run again with --max-delete 2 to allow it" in problem
    assert not stopped(kind, 10, 1, **share)


@pytest.mark.parametrize("kind", ["trash", "remove_file"])
def test_a_count_is_a_count_in_a_tree_of_any_size(kind: str) -> None:
    [problem] = stopped(kind, 1, 1, max_delete_share=None, max_delete_count=0)
    assert "more than sync.max_delete allows (0 " in problem and "--max-delete 1" in problem
    assert stopped(kind, 5, 2, max_delete_share=None, max_delete_count=1)
    assert not stopped(kind, 5, 2, max_delete_share=None, max_delete_count=2)
    assert not stopped(kind, 30, 30, max_delete_share=None, max_delete_count=None)  # the stop turned off
