"""What a run says: ``status`` and ``--check``, dry runs that write nothing, and one
``--json`` document on every command, errors included.

The real CLI against a sandbox; see tests/support/world.py.
"""

from __future__ import annotations

import json

import pytest

from mdsync.sandbox.app import DEFAULT_TOKEN
from tests.support.world import (
    World,
    pushed,
    replace_text,
    small_tree,
)

# -- status and --check ----------------------------------------------------------------------------------------


def out_of_step_world(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("intro.md", "# Introduction\n\nChanged here.\n")  # changed here
    world.edit(world.page_id("faq.md"), replace_text("Questions", "Many questions"))  # changed in Confluence
    world.write("guides/install.md", "# Install\n\nMine.\n")  # both
    world.edit(world.page_id("guides/install.md"), replace_text("Step one.", "Theirs."))
    world.write("brand-new.md", "# Brand New\n\nnew\n")  # new
    (world.docs / "guides" / "upgrade.md").unlink()  # deleted


def test_status_names_every_kind_of_difference_and_writes_nothing(world: World) -> None:
    out_of_step_world(world)
    before = world.snapshot()
    world.reset_stats()
    run = world.run("status", "--json")
    assert run.code == 0, run
    kinds = {action["path"]: action["action"] for action in run.actions()}
    assert kinds == {"intro.md": "update", "faq.md": "pull", "guides/install.md": "merge",
                     "brand-new.md": "create", "guides/upgrade.md": "keep"}
    assert run.report["counts"].get("noop") == 1  # guides/README.md is in step
    text = world.run("status")
    assert text.code == 0, text
    assert "1 in step" in text.stdout
    rows = {line.split()[0]: line for line in text.stdout.splitlines() if line.split() and line.split()[0] in kinds}
    assert set(rows) == set(kinds), text.stdout
    described = {"intro.md": "changed here", "faq.md": "changed in Confluence",
                 "guides/install.md": "changed here and in Confluence", "brand-new.md": "new",
                 "guides/upgrade.md": "deleted"}
    wrong = {path: rows[path] for path, words in described.items() if words not in rows[path][len(path):]}
    assert not wrong, "status does not say what state these files are in:\n" + "\n".join(wrong.values())
    assert world.stats()["writes"] == 0 and world.snapshot() == before


@pytest.mark.parametrize("policy", ["local", "remote", "merge", "stop", "auto"])
def test_status_says_changed_on_both_sides_whatever_the_conflict_policy(world: World, policy: str) -> None:
    small_tree(world)
    pushed(world)
    world.configure(sync=f"  max_delete: 50%\n  on_conflict: {policy}\n")
    world.write("intro.md", "# Introduction\n\nWelcome, edited here.\n\nSecond paragraph.\n")
    world.edit(world.page_id("intro.md"), replace_text("Second paragraph.", "Second paragraph, edited there."))
    run = world.run("status", "--json")
    assert run.code == 0, run
    states = {action["path"]: action["state"] for action in run.actions()}
    assert states == {"intro.md": "changed here and in Confluence"}


def test_check_exits_4_out_of_step_and_0_in_step(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.reset_stats()
    for args in (("status", "--check"), ("sync", "--check")):
        run = world.run(*args)
        assert run.code == 0, run
    world.write("faq.md", "# FAQ\n\nChanged.\n")
    world.edit(world.page_id("intro.md"), replace_text("Welcome", "Hello"))
    before = world.snapshot()
    world.reset_stats()
    run = world.run("status", "--check")
    assert run.code == 4, run
    run = world.run("sync", "--check", "--json")
    assert run.code == 4, run
    assert {(a["action"], a["path"]) for a in run.actions()} == {("update", "faq.md"), ("pull", "intro.md")}
    assert world.stats()["writes"] == 0 and world.snapshot() == before
    assert world.version(world.page_id("faq.md")) == 1


# -- dry runs ------------------------------------------------------------------------------------------------


def test_dry_run_on_push_pull_and_sync_writes_nothing_and_shows_the_plan(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("guides/install.md", "# Install\n\nStep one.\n\nStep two, edited.\n\nStep three.\n")
    world.write("added.md", "# Added\n\nnew\n")
    remote = world.page_id("faq.md")
    world.edit(remote, replace_text("Questions and answers.", "Answers only."))
    before = world.snapshot()
    world.reset_stats()
    for args in (("push",), ("pull",), ("sync",)):
        run = world.run(*args, "--dry-run", "--json")
        assert run.code == 0, (args, run)
        assert run.report["dry_run"] is True
        assert all(action["status"] == "planned" for action in run.actions()), run.report
        if args[0] != "pull":
            update = next(a for a in run.actions() if a["path"] == "guides/install.md")
            assert update["action"] == "update"
            assert "-Step two." in update["diff"] and "+Step two, edited." in update["diff"]
            assert "added.md" in run.paths("create")
        if args[0] != "push":
            pull = next(a for a in run.actions() if a["path"] == "faq.md")
            assert pull["action"] == "pull" and "+Answers only." in pull["diff"], pull
    assert world.stats()["writes"] == 0
    assert world.snapshot() == before
    assert world.version(remote) == 2 and world.version(world.page_id("guides/install.md")) == 1


def test_first_dry_run_leaves_the_folder_as_it_was(world: World) -> None:
    small_tree(world)
    before = world.snapshot()
    run = world.push("--dry-run")
    assert run.code == 0 and len(run.actions("create")) == 5, run
    assert world.stats()["writes"] == 0 and len(world.pages()) == 1
    assert world.snapshot() == before, "a dry run wrote " + ", ".join(sorted(set(world.snapshot()) - set(before)))


# -- --json on every command ------------------------------------------------------------------------------------


def test_json_report_on_every_command(world: World) -> None:
    small_tree(world)
    pushed(world)
    world.write("faq.md", "# FAQ\n\nout of step\n")
    world.edit(world.page_id("intro.md"), replace_text("Welcome", "Hello"))
    expected = [(("status",), 0), (("status", "--check"), 4), (("push", "--dry-run"), 0), (("pull",), 0),
                (("push",), 0), (("sync",), 0)]
    mismatched = []
    for args, code in expected:
        run = world.run(*args, "--json")
        assert isinstance(run.report, dict), args
        assert {"mode", "exit_code", "counts", "actions"} <= set(run.report), args
        assert run.code == code, (args, run)
        assert run.report["mode"] in ("push", "pull", "sync", "status"), args
        assert isinstance(run.report["counts"], dict) and isinstance(run.report["actions"], list)
        assert sum(run.report["counts"].values()) >= len(run.report["actions"])
        for action in run.report["actions"]:
            assert {"action", "path", "status"} <= set(action), (args, action)
        if args[0] != "sync":
            assert run.report["actions"], (args, run.report)
        if run.report["exit_code"] != run.code:
            mismatched.append((args, run.report["exit_code"], run.code))
    assert not mismatched, f"the JSON exit_code differs from the exit status: {mismatched}"


def test_an_error_still_prints_one_json_document(world: World) -> None:
    small_tree(world)
    world.configure(sync="  max_delete: 50%\n  concurrency: 0\n")
    run = world.run("push", "--json")
    assert run.code == 2, run
    assert run.report is not None and run.report["exit_code"] == 2 and "concurrency" in run.report["error"]
    world.configure()
    world.api.put("/_sandbox/faults", json={"unavailable_share": 1.0}).raise_for_status()
    down = world.run("status", "--json", timeout=120)
    assert down.code == 1, down
    assert down.report is not None and down.report["exit_code"] == 1 and down.report["error"]


def test_oauth_runs_discover_the_cloud_id_once_and_keep_it_in_the_state(world: World) -> None:
    small_tree(world)
    (world.root / "mdsync.yaml").write_text(
        f"confluence:\n  url: {world.url}\n  auth: bearer\n  token: {DEFAULT_TOKEN}\n  gateway: {world.url}\n"
        "space: DOCS\ndocs: docs\nsync:\n  max_delete: 50%\n", encoding="utf-8")
    world.reset_stats()
    assert pushed(world).report["counts"] == {"create": 5}
    discovery = [entry["path"] for entry in world.stats()["log"] if entry["path"].endswith("tenant_info")]
    assert len(discovery) == 1
    cloud_id = json.loads((world.root / ".mdsync" / "state.json").read_text())["site"]["cloud_id"]
    assert cloud_id == world.server.sandbox.store.cloud_id
    assert all(entry["gateway"] == "atlassian" for entry in world.stats()["log"][1:])
    world.write("faq.md", "# FAQ\n\nChanged.\n")
    world.reset_stats()
    assert pushed(world).report["counts"] == {"update": 1, "noop": 4}
    assert not [entry for entry in world.stats()["log"] if "tenant_info" in entry["path"]]
    assert DEFAULT_TOKEN not in (world.root / ".mdsync" / "state.json").read_text()
