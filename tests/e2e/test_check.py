"""`mdsync check`: offline, through the real CLI, and as a pre-commit hook run by pre-commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdsync.cli.check import check_docs
from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
from tests.support import REPO
from tests.support.sandbox import RunningSandbox

MDSYNC = [sys.executable, "-m", "mdsync"]


def write(root: Path, path: str, text: str | bytes) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


@pytest.fixture
def broken_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    write(docs, "a.md", "# Alpha\n\nSee [b](b.md#nope), [gone](gone.md), [self](#missing), [fine](b.md#real).\n\n"
                        "![pic](img/none.png)\n\n<blink>x</blink>\n")
    write(docs, "b.md", "# Beta\n\n## Real\n")
    write(docs, "sub/c.md", "---\ntitle: [oops\n---\n# C\n")
    write(docs, "dup.md", "# alpha\n\nsame title, other case\n")
    write(docs, "latin1.md", b"# Caf\xe9\n")
    write(docs, "ok.md", "# Fine\n\n![here](img/here.png) and [Beta](b.md).\n")
    write(docs, "img/here.png", b"\x89PNG")
    return docs


def test_every_kind_of_problem_is_found_with_its_line(broken_docs: Path) -> None:
    found = {(problem.path, problem.line, problem.kind, problem.message.split(":")[0])
             for problem in check_docs(broken_docs)}
    assert ("a.md", 3, "broken", "link to 'b.md#nope'") in found
    assert ("a.md", 3, "broken", "link to 'gone.md'") in found
    assert ("a.md", 3, "broken", "link to '#missing'") in found
    assert ("a.md", 5, "broken", "image 'img/none.png' was not found; only its description is shown") in found
    assert any(path == "a.md" and line == 7 and kind == "degraded" for path, line, kind, _ in found)
    assert ("sub/c.md", 2, "broken", "front matter line 2") in found
    assert any(path == "latin1.md" and kind == "broken" for path, _, kind, _ in found)
    duplicates = {path for path, _, _, message in found if message.startswith("the same title")}
    assert duplicates == {"a.md", "dup.md"}
    assert not [entry for entry in found if entry[0] in ("b.md", "ok.md")]
    assert not any("b.md#real" in message for _, _, _, message in found)


def test_a_pulled_file_is_checked_with_what_its_kept_regions_refer_to(tmp_path: Path) -> None:
    from mdsync.convert import convert_storage
    from mdsync.sync.state import FileState, State

    page = ('<p>Build: <ac:structured-macro ac:name="status"><ac:parameter ac:name="title">OK</ac:parameter>'
            "</ac:structured-macro></p>")
    pulled = convert_storage(page, keep_payloads=True)
    write(tmp_path / "docs", "status.md", "# Status\n\n" + pulled.markdown)
    state = State(tmp_path / ".mdsync")
    state.record("status.md", FileState("1", "Status", None, 1, None, ""), kept=pulled.payloads)
    assert check_docs(tmp_path / "docs", state_dir=tmp_path / ".mdsync") == []
    # Without the state, a push could not put the lozenge back from this checkout: it says so.
    problems = check_docs(tmp_path / "docs")
    assert [(problem.kind, "this checkout does not have" in problem.message) for problem in problems] == \
        [("degraded", True)]


def run_check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MDSYNC, "check", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "MATON_"))})


def test_the_cli_prints_one_line_per_problem_and_exits_1(broken_docs: Path) -> None:
    result = run_check(broken_docs.parent, "--docs", "docs")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "a.md:3: link to 'gone.md': no page for that file; it is kept as a plain link" in lines
    # path:line: as editors read it, or path: alone where no line is known (as --json's null)
    assert all(line.split(":")[1].isdigit() or line.split(":")[1].startswith(" ") for line in lines), lines
    assert any(line.startswith("a.md: the same title as dup.md") for line in lines), lines
    assert "problem(s) in" in result.stderr


def test_degraded_constructs_can_be_allowed(tmp_path: Path) -> None:
    write(tmp_path / "docs", "a.md", "# A\n\n<blink>x</blink>\n")
    assert run_check(tmp_path, "--docs", "docs").returncode == 1
    allowed = run_check(tmp_path, "--docs", "docs", "--allow-degraded")
    assert allowed.returncode == 0 and "(degraded)" in allowed.stdout


def test_json_and_paths_limit_the_report(broken_docs: Path) -> None:
    (broken_docs.parent / "README.md").write_text("# Not a page\n")  # outside docs, as a hook passes it
    result = run_check(broken_docs.parent, "--docs", "docs", "--json", "docs/b.md", "docs/ok.md", "README.md")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {"exit_code": 0, "problems": []}
    one = json.loads(run_check(broken_docs.parent, "--docs", "docs", "--json", "docs/sub").stdout)
    assert one["exit_code"] == 1 and {problem["path"] for problem in one["problems"]} == {"sub/c.md"}


def test_check_reads_mdsync_yaml_without_credentials(broken_docs: Path) -> None:
    (broken_docs.parent / "mdsync.yaml").write_text(
        "confluence:\n  url: https://example.atlassian.net\n  auth: token\n  email: a@example.com\n"
        "  token: ${CONFLUENCE_API_TOKEN}\nspace: DOCS\ndocs: docs\nexclude: ['sub/**', 'latin1.md']\n")
    result = run_check(broken_docs.parent, "--json")
    paths = {problem["path"] for problem in json.loads(result.stdout)["problems"]}
    assert result.returncode == 1 and paths == {"a.md", "dup.md"}


def test_without_a_config_it_says_what_to_do(tmp_path: Path) -> None:
    result = run_check(tmp_path)
    assert result.returncode == 2
    assert "--docs" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.timeout(900)  # pre-commit builds a virtualenv and installs mdsync into it: minutes under load
def test_the_pre_commit_hooks_check_staged_markdown_and_push(tmp_path: Path, sandbox: RunningSandbox) -> None:
    repo = tmp_path / "repo"
    write(repo, "docs/good.md", "# Good\n\nFine.\n")
    write(repo, "README.md", "# Not a page\n\n[nowhere](nowhere.md)\n")
    write(repo, "mdsync.yaml", f"confluence:\n  url: {sandbox.url}\n  auth: token\n"
                               f"  email: {DEFAULT_EMAIL}\nspace: DOCS\ndocs: docs\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "MATON_", "GIT_"))},
           "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    pre_commit = [sys.executable, "-m", "pre_commit"]

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    def hook(name: str = "mdsync-check", *extra: str) -> subprocess.CompletedProcess[str]:
        # try-repo runs the hooks of this checkout (uncommitted changes included) on the staged files.
        return subprocess.run([*pre_commit, "try-repo", str(REPO), name, *extra], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=900)

    git("init", "-q")
    git("add", ".")
    passed = hook()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    write(repo, "docs/bad.md", "# Bad\n\nSee [missing](missing.md).\n")
    git("add", "docs/bad.md")
    failed = hook()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "bad.md:3: link to 'missing.md'" in failed.stdout
    assert "README.md" not in failed.stdout.split("mdsync check")[-1]  # not a page: passed over

    git("rm", "-q", "--cached", "docs/bad.md")
    (repo / "docs" / "bad.md").unlink()
    env["CONFLUENCE_API_TOKEN"] = DEFAULT_TOKEN
    pushed = hook("mdsync-push", "--hook-stage", "pre-push", "--all-files")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "Good" in {page.title for page in sandbox.store.contents("page")}


def test_index_files_without_a_heading_are_titled_by_their_folders_as_push_titles_them(
        tmp_path: Path, sandbox: RunningSandbox) -> None:
    docs = tmp_path / "docs"
    write(docs, "a/index.md", "About a.\n")
    write(docs, "b/index.md", "About b.\n")
    assert check_docs(docs) == []  # no title clash: the pages are "a" and "b", not two "index"
    write(docs, "c.md", "# A\n")  # a real clash with a/index.md's title, in another case
    assert {(problem.path, problem.message.split(":")[0]) for problem in check_docs(docs)} == {
        ("a/index.md", "the same title as c.md"), ("c.md", "the same title as a/index.md")}
    (docs / "c.md").unlink()
    write(tmp_path, "mdsync.yaml", f"confluence:\n  url: {sandbox.url}\n  auth: token\n"
                                   f"  email: {DEFAULT_EMAIL}\nspace: DOCS\ndocs: docs\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "MATON_"))},
           "CONFLUENCE_API_TOKEN": DEFAULT_TOKEN}
    pushed = subprocess.run([*MDSYNC, "push"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert {"a", "b"} <= {page.title for page in sandbox.store.contents("page")}
