"""The planner's decision for one tracked file over every combination of what changed here,
what changed in Confluence, the mode and the conflict policy (as rclone bisync tests its
change matrix). The expected table is written from the rules in the README ("Push, pull,
sync"), not from the planner's output."""

from __future__ import annotations

import itertools

import pytest

from mdsync.sync.plan import Local, Options, Remote, plan
from mdsync.sync.state import FileState
from mdsync.vocabulary import ActionKind, Change, ConflictPolicy, DeletePolicy, Mode

ROOT = "100"
ENTRY = FileState(page_id="1", title="A", parent_id=ROOT, version=1, md_hash="synced", storage_hash="s")
HERE = {"same": Local("a.md", None, "synced", "A"), "changed": Local("a.md", None, "edited", "A"), "deleted": None}
THERE = {"same": Remote("1", "A", ROOT, 1), "changed": Remote("1", "A", ROOT, 2), "deleted": None}

# (here, there, mode) -> the action, whatever the policy; "both" rows depend on it (below).
ONE_SIDE = {
    ("same", "same"): {Mode.PUSH: "noop", Mode.PULL: "noop", Mode.SYNC: "noop"},
    ("changed", "same"): {Mode.PUSH: "update", Mode.PULL: "local_only", Mode.SYNC: "update"},
    ("same", "changed"): {Mode.PUSH: "remote_only", Mode.PULL: "pull", Mode.SYNC: "pull"},
    # Deleted here: the page is kept (sync.delete: keep) unless Confluence changed it meanwhile.
    ("deleted", "same"): {Mode.PUSH: "keep", Mode.PULL: "local_only", Mode.SYNC: "keep"},
    ("deleted", "changed"): {Mode.PUSH: "conflict", Mode.PULL: "local_only", Mode.SYNC: "conflict"},
    # Deleted in Confluence: the file goes, unless it changed here meanwhile.
    ("same", "deleted"): {Mode.PUSH: "remote_only", Mode.PULL: "remove_file", Mode.SYNC: "remove_file"},
    ("changed", "deleted"): {Mode.PUSH: "remote_only", Mode.PULL: "conflict", Mode.SYNC: "conflict"},
    ("deleted", "deleted"): {Mode.PUSH: "forget", Mode.PULL: "forget", Mode.SYNC: "forget"},
}
# Changed on both sides: the policy settles it; push only overwrites when local wins.
BOTH = {
    Mode.PUSH: {ConflictPolicy.AUTO: "conflict", ConflictPolicy.STOP: "conflict", ConflictPolicy.MERGE: "conflict",
                ConflictPolicy.LOCAL: "update", ConflictPolicy.REMOTE: "conflict"},
    Mode.SYNC: {ConflictPolicy.AUTO: "merge", ConflictPolicy.STOP: "conflict", ConflictPolicy.MERGE: "merge",
                ConflictPolicy.LOCAL: "update", ConflictPolicy.REMOTE: "pull"},
    Mode.PULL: {ConflictPolicy.AUTO: "merge", ConflictPolicy.STOP: "conflict", ConflictPolicy.MERGE: "merge",
                ConflictPolicy.LOCAL: "update", ConflictPolicy.REMOTE: "pull"},
}
CELLS = list(itertools.product(HERE, THERE, Mode, ConflictPolicy))


def expected(here: str, there: str, mode: Mode, policy: ConflictPolicy) -> str:
    if here == there == "changed":
        return BOTH[mode][policy]
    return ONE_SIDE[(here, there)][mode]


@pytest.mark.parametrize(("here", "there", "mode", "policy"), CELLS)
def test_the_decision_for_each_change_mode_and_policy(here: str, there: str, mode: Mode,
                                                      policy: ConflictPolicy) -> None:
    local = {"a.md": HERE[here]} if HERE[here] is not None else {}
    remote = {"1": THERE[there]} if THERE[there] is not None else {}
    result = plan(local, remote, {"a.md": ENTRY}, root_id=ROOT,
                  options=Options(mode=mode, on_conflict=policy, delete=DeletePolicy.KEEP, max_delete_share=None))
    [action] = result.actions
    assert action.kind == expected(here, there, mode, policy)
    # What changed where is a fact on the action, whichever side a policy lets win.
    changes = {side for side, changed in ((Change.HERE, here == "changed"), (Change.THERE, there == "changed"))
               if changed}
    assert action.changes == changes


@pytest.mark.parametrize("policy", ConflictPolicy)
def test_a_push_writes_no_file_but_a_conflicts_copy_and_a_pull_no_page_unless_local_wins(
        policy: ConflictPolicy) -> None:
    for here, there in itertools.product(HERE, THERE):
        local = {"a.md": HERE[here]} if HERE[here] is not None else {}
        remote = {"1": THERE[there]} if THERE[there] is not None else {}
        for mode in (Mode.PUSH, Mode.PULL):
            [action] = plan(local, remote, {"a.md": ENTRY}, root_id=ROOT,
                            options=Options(mode=mode, on_conflict=policy, max_delete_share=None)).actions
            if mode == Mode.PUSH:
                assert not action.writes_local or action.kind == ActionKind.CONFLICT, (here, there, action)
            elif not (here == there == "changed" and policy in (ConflictPolicy.LOCAL, ConflictPolicy.MERGE,
                                                                ConflictPolicy.AUTO)):
                assert not action.writes_remote, (here, there, action)


def test_trash_policy_trashes_the_page_of_a_file_deleted_here() -> None:
    for mode, kind in ((Mode.PUSH, "trash"), (Mode.SYNC, "trash"), (Mode.PULL, "local_only")):
        result = plan({}, {"1": THERE["same"]}, {"a.md": ENTRY}, root_id=ROOT,
                      options=Options(mode=mode, delete=DeletePolicy.TRASH, max_delete_share=None))
        assert [action.kind for action in result.actions] == [kind], mode
