"""A new user's mistakes, each answered (issue 15, items 2, 5, 6, 7 and 8): a path that names
nothing is a usage error, mdsync.yaml is found from a subfolder, init's errors name its
flags, check and status agree with each other, and convert follows the file's form.

The real CLI as a subprocess; a sandbox where Confluence is needed (tests/support/world.py).
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer
from tests.support.sandbox import RunningSandbox
from tests.support.world import World

MDSYNC = [sys.executable, "-m", "mdsync"]
USAGE = 2


def mdsync(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MDSYNC_", "CONFLUENCE_"))}
    env.update(CONFLUENCE_API_TOKEN=DEFAULT_TOKEN, COLUMNS="200", NO_COLOR="1")
    return subprocess.run([*MDSYNC, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


# -- item 2: a path that matches nothing ------------------------------------------------------------------------


def test_a_path_that_names_nothing_is_a_usage_error_naming_it(world: World) -> None:
    world.write("guides/install.md", "# Install\n\nSteps.\n")
    for command in (["check", "docs/nonexistent.md"], ["push", "docs/nonexistent.md"], ["sync", "docs/gudes"],
                    ["pull", "docs/gudes/"]):
        run = mdsync(world.root, *command)
        assert run.returncode == USAGE, (command, run.stdout, run.stderr)
        assert command[1].rstrip("/").split("/")[-1] in run.stderr and "check the path" in run.stderr, run.stderr
        assert "nothing to do" not in run.stdout.lower() and "No problems found" not in run.stdout
    assert world.pages() == [world.page(world.home_id)] or len(world.pages()) == 1, "nothing was pushed"


def test_a_deleted_file_mdsync_tracks_is_still_a_path_it_knows(world: World) -> None:
    world.write("old.md", "# Old\n\nTo go.\n")
    world.write("keep.md", "# Keep\n\nStays.\n")
    assert world.push().code == 0
    (world.docs / "old.md").unlink()
    run = mdsync(world.root, "push", "--json", "--delete", "docs/old.md")
    assert run.returncode == 0, run.stdout + run.stderr
    assert [action["path"] for action in json.loads(run.stdout)["actions"]] == ["old.md"]


# -- item 5: mdsync.yaml is looked for upward -------------------------------------------------------------------


def test_commands_find_mdsync_yaml_from_a_subfolder(world: World) -> None:
    world.write("guides/install.md", "# Install\n\nSteps.\n")
    inside = world.docs / "guides"
    run = mdsync(inside, "push", "--json", "install.md")  # a path relative to where the user stands
    assert run.returncode == 0, run.stdout + run.stderr
    assert "guides/install.md" in {action["path"] for action in json.loads(run.stdout)["actions"]}
    assert mdsync(inside, "check").returncode == 0
    run = mdsync(inside, "init", "--url", world.url, "--space", "DOCS", "--email", DEFAULT_EMAIL)
    assert run.returncode == USAGE and str(world.root / "mdsync.yaml") in run.stderr, run.stderr
    assert not (inside / "mdsync.yaml").exists(), "no nested configuration"


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "mdsync.yaml").write_text("space: OUTSIDE\n", encoding="utf-8")  # outside the repository
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    (repository / "docs").mkdir()
    run = mdsync(repository / "docs", "status")
    assert run.returncode == USAGE, run.stdout + run.stderr
    assert "No mdsync.yaml found" in run.stderr and "OUTSIDE" not in run.stdout + run.stderr


# -- item 6: init ---------------------------------------------------------------------------------------------


def test_init_names_the_flag_and_suggests_the_scheme(sandbox: RunningSandbox, tmp_path: Path) -> None:
    address = sandbox.url.removeprefix("http://")
    run = mdsync(tmp_path, "init", "--url", address, "--email", DEFAULT_EMAIL, "--space", "DOCS")
    assert run.returncode == USAGE
    assert "--url" in run.stderr and f"did you mean http://{address}?" in run.stderr, run.stderr
    assert "line" not in run.stderr and not (tmp_path / "mdsync.yaml").exists()
    run = mdsync(tmp_path, "init", "--url", "acme.atlassian.net", "--email", DEFAULT_EMAIL, "--space", "DOCS",
                 "--no-check")
    assert "did you mean https://acme.atlassian.net?" in run.stderr, run.stderr


def test_init_writes_a_site_space_key_in_capitals(sandbox: RunningSandbox, tmp_path: Path) -> None:
    run = mdsync(tmp_path, "init", "--url", sandbox.url, "--email", DEFAULT_EMAIL, "--space", "docs")
    assert run.returncode == 0, run.stderr
    assert "space: DOCS" in (tmp_path / "mdsync.yaml").read_text(encoding="utf-8")


# -- item 7: check and status agree -------------------------------------------------------------------------------


def test_a_missing_docs_folder_is_the_same_error_with_the_same_hint(world: World) -> None:
    world.docs.rmdir()
    check, status = mdsync(world.root, "check"), mdsync(world.root, "status")
    assert check.returncode == status.returncode == USAGE, (check, status)
    for run in (check, status):
        assert "does not exist: create it, or set 'docs' in mdsync.yaml" in run.stderr, run.stderr


def test_check_text_and_json_give_the_same_line(world: World) -> None:
    world.write("a.md", "# Same\n\nOne.\n")
    world.write("b.md", "# Same\n\nTwo.\n")
    text = mdsync(world.root, "check")
    report = json.loads(mdsync(world.root, "check", "--json").stdout)
    for problem in report["problems"]:
        where = f"{problem['path']}:{problem['line']}:" if problem["line"] else f"{problem['path']}: "
        assert where in text.stdout, (where, text.stdout)
    assert any(problem["line"] is None for problem in report["problems"])
    assert "a.md:1:" not in text.stdout, "no line is made up where none is known"


def test_status_counts_the_files_in_step_beside_one_with_a_clashing_title(world: World) -> None:
    for number in range(4):
        world.write(f"doc-{number}.md", f"# Doc {number}\n\nBody.\n")
    assert world.push().code == 0
    world.write("dup.md", "# Doc 2\n\nThe same title.\n")
    run = world.run("status", "--json")
    assert run.report is not None and run.report["problems"] == []
    standings = {action["path"]: action["action"] for action in run.actions()}
    assert standings == {"dup.md": "skip"}, standings  # doc-2.md keeps its page and its title
    assert run.report["counts"] == {"skip": 1, "noop": 4}, run.report["counts"]
    text = mdsync(world.root, "status").stdout
    assert "1 held back; 4 in step" in text, text
    push = mdsync(world.root, "push")
    assert push.returncode == 1 and "stopped before writing anything" in push.stdout, push.stdout
    assert "nothing to do" not in push.stdout


# -- item 8: convert follows the file's form ---------------------------------------------------------------------


def test_convert_takes_the_direction_from_the_file_and_names_a_mismatch(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("# Title\n\nSome **bold** text.\n", encoding="utf-8")
    storage = mdsync(tmp_path, "convert", "page.md")
    assert storage.returncode == 0 and "<strong>bold</strong>" in storage.stdout, storage
    (tmp_path / "page.xml").write_text(storage.stdout, encoding="utf-8")
    back = mdsync(tmp_path, "convert", "page.xml")
    assert back.returncode == 0 and "**bold**" in back.stdout and "warning" not in back.stderr, back
    (tmp_path / "exported").write_text(storage.stdout, encoding="utf-8")  # no suffix: read as markup
    assert "**bold**" in mdsync(tmp_path, "convert", "exported").stdout
    wrong = mdsync(tmp_path, "convert", "page.md", "--to", "markdown")
    assert wrong.returncode == USAGE and "page.md is Markdown" in wrong.stderr and not wrong.stdout, wrong
    wrong = mdsync(tmp_path, "convert", "page.xml", "--to", "storage")
    assert wrong.returncode == USAGE and "is Confluence storage" in wrong.stderr, wrong


# -- item 4: Confluence unreachable ------------------------------------------------------------------------------


def test_an_unreachable_site_fails_fast_naming_it_and_status_still_shows_the_files(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    with BackgroundServer(create_sandbox(spaces=("DOCS",))) as server:
        world = World(tmp_path / "project", server)
        world.write("a.md", "# A\n\nOne.\n")
        world.write("b.md", "# B\n\nTwo.\n")
        assert world.push().code == 0
        world.close()
    # The sandbox is gone: its port refuses connections now.
    world.write("a.md", "# A\n\nOne, edited offline.\n")
    world.write("c.md", "# C\n\nNew offline.\n")
    push = mdsync(world.root, "-v", "push")
    assert push.returncode == 1, push
    assert f"Could not connect to {server.url}" in push.stderr and "connection refused" in push.stderr, push.stderr
    status = mdsync(world.root, "status", "--json")
    assert status.returncode == 1, status
    report = json.loads(status.stdout)
    assert {(action["path"], action["state"]) for action in report["actions"]} == \
        {("a.md", "changed here"), ("c.md", "new here")}, report
    assert report["counts"].get("noop") == 1
    assert any("could not be asked" in note and server.url in note for note in report["notes"]), report["notes"]


# -- item 3: a dry run shows what the run writes ---------------------------------------------------------------


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_pull_dry_run_shows_exactly_the_lines_the_pull_rewrites(world: World) -> None:
    # A table in the writer's own style (padded, aligned), which mdsync would write compactly.
    table = "| Name      | Value |\n|-----------|-------|\n| alpha     | 1     |\n| beta      | 2     |\n"
    world.write("data.md", f"# Data\n\nIntro line.\n\n{table}\nClosing line.\n")
    assert world.push().code == 0
    page = world.page_id("data.md")
    world.edit(page, lambda body: body.replace("Closing line.", "Closing line, edited in Confluence."))
    before = world.read("data.md")
    dry = world.pull("--dry-run")
    assert dry.code == 0, dry
    (planned,) = [action for action in dry.actions() if action["path"] == "data.md"]
    assert world.read("data.md") == before, "a dry run writes nothing"
    assert world.pull().code == 0
    after = world.read("data.md")
    assert table in after, "the writer's table style is kept"
    shown = changed_lines(planned["diff"])
    made = changed_lines("".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True))))
    assert shown == made == ["-Closing line.", "+Closing line, edited in Confluence."], (shown, made)
