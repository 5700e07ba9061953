"""A newcomer's path through the real CLI against a sandbox: init, check, push, status, an
edit in Confluence, pull; and the first-run mistakes, each answered by one sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
from tests.support.sandbox import RunningSandbox

MDSYNC = [sys.executable, "-m", "mdsync"]


def mdsync(root: Path, *args: str, token: str | None = DEFAULT_TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "MATON_", "MDSYNC_"))}
    if token is not None:
        env["CONFLUENCE_API_TOKEN"] = token
    return subprocess.run([*MDSYNC, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    """The error a user sees: one line, no traceback, and no token."""
    assert "Traceback" not in result.stderr and DEFAULT_TOKEN not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_newcomer_path(sandbox: RunningSandbox, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Team handbook\n\nStart with [setup](setup.md#install).\n", encoding="utf-8")
    (docs / "setup.md").write_text("# Setup\n\n## Install\n\nRun the installer.\n", encoding="utf-8")

    init = mdsync(tmp_path, "init", "--url", sandbox.url, "--email", DEFAULT_EMAIL, "--space", "DOCS")
    assert init.returncode == 0, init.stderr
    assert DEFAULT_TOKEN not in (tmp_path / "mdsync.yaml").read_text()

    check = mdsync(tmp_path, "check", token=None)  # offline: no token needed
    assert check.returncode == 0, check.stdout + check.stderr

    # index.md is the body of the page that holds the tree: here the space's home page, which
    # the first push does not overwrite without being told to, and says how.
    push = mdsync(tmp_path, "push", "--json")
    assert push.returncode == 1, push.stdout + push.stderr
    [problem] = json.loads(push.stdout)["problems"]
    assert "index.md" in problem and "--allow-home" in problem
    push = mdsync(tmp_path, "push", "--json", "--allow-home")
    assert push.returncode == 0, push.stdout + push.stderr
    assert json.loads(push.stdout)["counts"] == {"adopt": 1, "create": 1}

    status = mdsync(tmp_path, "status", "--check")
    assert status.returncode == 0, status.stdout

    state = json.loads((tmp_path / ".mdsync" / "state.json").read_text())["files"]
    page_id = state["setup.md"]["page_id"]
    with httpx.Client(base_url=sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN)) as api:
        page = api.get(f"/wiki/api/v2/pages/{page_id}", params={"body-format": "storage"}).json()
        body = page["body"]["storage"]["value"].replace("Run the installer.", "Run the installer twice.")
        api.put(f"/wiki/api/v2/pages/{page_id}", json={
            "id": page_id, "status": "current", "title": page["title"],
            "body": {"representation": "storage", "value": body},
            "version": {"number": page["version"]["number"] + 1}}).raise_for_status()

    behind = mdsync(tmp_path, "status", "--check", "--json")
    assert behind.returncode == 4
    assert {(a["path"], a["state"]) for a in json.loads(behind.stdout)["actions"]} == {
        ("setup.md", "changed in Confluence")}
    pull = mdsync(tmp_path, "pull")
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert (docs / "setup.md").read_text() == "# Setup\n\n## Install\n\nRun the installer twice.\n"
    assert mdsync(tmp_path, "status", "--check").returncode == 0


def test_no_config_file(tmp_path: Path) -> None:
    result = mdsync(tmp_path, "push")
    assert result.returncode == 2
    assert "mdsync.yaml" in one_sentence(result) and "mdsync init" in result.stderr


def write_config(root: Path, url: str, space: str = "DOCS") -> None:
    (root / "mdsync.yaml").write_text(
        f"confluence:\n  url: {url}\n  auth: token\n  email: {DEFAULT_EMAIL}\n  token: ${{CONFLUENCE_API_TOKEN}}\n"
        f"space: {space}\ndocs: docs\n", encoding="utf-8")
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "a.md").write_text("# A page\n\ntext\n", encoding="utf-8")


def test_missing_token(sandbox: RunningSandbox, tmp_path: Path) -> None:
    write_config(tmp_path, sandbox.url)
    result = mdsync(tmp_path, "push", token=None)
    assert result.returncode == 2
    assert "CONFLUENCE_API_TOKEN" in one_sentence(result)


def test_wrong_token(sandbox: RunningSandbox, tmp_path: Path) -> None:
    write_config(tmp_path, sandbox.url)
    result = mdsync(tmp_path, "push", token="wrong-token")
    assert result.returncode == 1
    assert "wrong-token" not in result.stderr
    assert "token" in one_sentence(result).lower()


def test_an_expired_token_answered_as_cloud_answers_it_says_sign_in_not_permission(sandbox: RunningSandbox,
                                                                                    tmp_path: Path) -> None:
    """Cloud answers credentials it does not accept with a bare 404 (v2) or a v1 403, not 401."""
    sandbox.box.faults.update({"cloud_sign_in_errors": True})
    write_config(tmp_path, sandbox.url)
    result = mdsync(tmp_path, "push", token="expired-token")
    assert result.returncode == 1
    message = one_sentence(result)
    assert "did not accept the credentials for" in message and DEFAULT_EMAIL in message and sandbox.url in message
    assert "CONFLUENCE_API_TOKEN" in message and "id.atlassian.com" in message
    assert "space admin" not in message and "expired-token" not in result.stdout + result.stderr
    # The right token still works with the sandbox answering as Cloud.
    assert mdsync(tmp_path, "push").returncode == 0


def test_wrong_space(sandbox: RunningSandbox, tmp_path: Path) -> None:
    write_config(tmp_path, sandbox.url, space="NOPE")
    result = mdsync(tmp_path, "push")
    assert result.returncode == 1
    assert "NOPE" in one_sentence(result)


def test_no_permission_to_add_pages(sandbox: RunningSandbox, tmp_path: Path) -> None:
    write_config(tmp_path, sandbox.url)
    sandbox.box.read_only_spaces = {"DOCS"}
    result = mdsync(tmp_path, "push")
    assert result.returncode == 1
    message = one_sentence(result)
    assert "DOCS" in message and "permission" in message.lower()
    assert len(sandbox.store.contents("page")) == 1  # only the home page: nothing was written
