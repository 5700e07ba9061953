"""The planner's side of `mdsync resolve`: the side kept becomes the agreed version. No I/O."""

from __future__ import annotations

import itertools

import pytest

from mdsync.sync.plan import Local, Options, Remote, plan
from mdsync.sync.state import FileState
from mdsync.vocabulary import ConflictPolicy, DeletePolicy, Keep, Mode

ROOT = "100"
ENTRY = FileState(page_id="1", title="A", parent_id=ROOT, version=1, md_hash="synced", storage_hash="s")
HERE = {"same": Local("a.md", None, "synced", "A"), "changed": Local("a.md", None, "edited", "A")}
THERE = {"same": Remote("1", "A", ROOT, 1), "changed": Remote("1", "A", ROOT, 2)}

# (here, there) -> what a resolve run does, per side kept. Merged: a file unchanged here holds
# no merge, so Confluence's edit comes in as a sync would take it.
KEPT = {
    Keep.MERGED: {("changed", "changed"): "update", ("changed", "same"): "update", ("same", "changed"): "pull"},
    Keep.LOCAL: {("changed", "changed"): "update", ("changed", "same"): "update", ("same", "changed"): "update"},
    Keep.REMOTE: {("changed", "changed"): "pull", ("changed", "same"): "pull", ("same", "changed"): "pull"},
}


@pytest.mark.parametrize(("keep", "here", "there"), list(itertools.product(Keep, HERE, THERE)))
def test_a_resolve_run_makes_the_side_kept_the_agreed_version(keep: Keep, here: str, there: str) -> None:
    [action] = plan({"a.md": HERE[here]}, {"1": THERE[there]}, {"a.md": ENTRY}, root_id=ROOT,
                    options=Options(keep=keep, only=("a.md",), force=keep != Keep.REMOTE)).actions
    assert action.kind == KEPT[keep].get((here, there), "noop")
    if action.kind != "noop" and (keep != Keep.MERGED or here == "changed"):
        assert action.reason.startswith("resolved:")


def test_a_file_deleted_here_and_changed_there_comes_back_when_confluence_is_kept() -> None:
    [action] = plan({}, {"1": THERE["changed"]}, {"a.md": ENTRY}, root_id=ROOT,
                    options=Options(keep=Keep.REMOTE, only=("a.md",))).actions
    assert action.kind == "pull"
    [action] = plan({}, {"1": THERE["changed"]}, {"a.md": ENTRY}, root_id=ROOT,
                    options=Options(keep=Keep.LOCAL, only=("a.md",), force=True, delete=DeletePolicy.TRASH)).actions
    assert action.kind == "trash"  # the delete here is what is kept


@pytest.mark.parametrize("policy", [ConflictPolicy.AUTO, ConflictPolicy.MERGE, ConflictPolicy.STOP])
def test_a_change_on_both_sides_is_resolvable_and_only_on_conflict_merge_leaves_markers(
        policy: ConflictPolicy) -> None:
    [action] = plan({"a.md": HERE["changed"]}, {"1": THERE["changed"]}, {"a.md": ENTRY}, root_id=ROOT,
                    options=Options(mode=Mode.SYNC, on_conflict=policy)).actions
    assert action.kind == ("conflict" if policy == ConflictPolicy.STOP else "merge")
    assert action.resolvable and action.markers == (policy == ConflictPolicy.MERGE)
    assert Options().on_conflict == ConflictPolicy.AUTO  # the default: merge what merges cleanly
