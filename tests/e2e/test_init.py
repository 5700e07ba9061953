"""`mdsync init` through the real CLI against a sandbox: the file it writes works, holds no
secret, and nothing is written when the connection or the space is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdsync.cli.init import render
from mdsync.config import SyncConfig, load_config, parse_config
from mdsync.config.schema import KEYS
from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
from tests.support.sandbox import RunningSandbox

MDSYNC = [sys.executable, "-m", "mdsync"]


def run_init(root: Path, *args: str, token: str | None = DEFAULT_TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "MATON_"))}
    if token is not None:
        env["CONFLUENCE_API_TOKEN"] = token
    return subprocess.run([*MDSYNC, "init", *args], cwd=root, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


def base_args(sandbox: RunningSandbox) -> list[str]:
    return ["--url", sandbox.url, "--email", DEFAULT_EMAIL, "--space", "DOCS", "--docs", "docs"]


def test_init_writes_a_config_that_loads_and_holds_no_token(sandbox: RunningSandbox, tmp_path: Path) -> None:
    result = run_init(tmp_path, *base_args(sandbox))
    assert result.returncode == 0, result.stderr
    assert "Connected as" in result.stdout
    text = (tmp_path / "mdsync.yaml").read_text()
    assert DEFAULT_TOKEN not in text
    assert "${CONFLUENCE_API_TOKEN}" in text
    assert DEFAULT_TOKEN not in result.stdout + result.stderr
    config = load_config(tmp_path / "mdsync.yaml", environ={"CONFLUENCE_API_TOKEN": DEFAULT_TOKEN})
    assert config.space == "DOCS"
    assert config.confluence.url.rstrip("/") == sandbox.url.rstrip("/")
    assert config.docs == (tmp_path / "docs").resolve()
    assert "does not exist yet" in result.stdout


def test_the_written_config_drives_a_push(sandbox: RunningSandbox, tmp_path: Path) -> None:
    assert run_init(tmp_path, *base_args(sandbox)).returncode == 0
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hello.md").write_text("# Hello\n\nFrom init.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "MATON_"))}
    env["CONFLUENCE_API_TOKEN"] = DEFAULT_TOKEN
    push = subprocess.run([*MDSYNC, "push", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert push.returncode == 0, push.stdout + push.stderr
    titles = {page.title for page in sandbox.store.contents("page")}
    assert "Hello" in titles


def test_wrong_token_writes_nothing(sandbox: RunningSandbox, tmp_path: Path) -> None:
    result = run_init(tmp_path, *base_args(sandbox), token="not-the-token")
    assert result.returncode != 0
    assert not (tmp_path / "mdsync.yaml").exists()
    assert "Traceback" not in result.stderr
    assert "not-the-token" not in result.stdout + result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_unknown_space_writes_nothing(sandbox: RunningSandbox, tmp_path: Path) -> None:
    args = base_args(sandbox)
    args[args.index("DOCS")] = "NOPE"
    result = run_init(tmp_path, *args)
    assert result.returncode != 0
    assert not (tmp_path / "mdsync.yaml").exists()
    assert "NOPE" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_parent_title_writes_nothing(sandbox: RunningSandbox, tmp_path: Path) -> None:
    result = run_init(tmp_path, *base_args(sandbox), "--parent", "No Such Page")
    assert result.returncode != 0
    assert "No Such Page" in result.stderr
    assert not (tmp_path / "mdsync.yaml").exists()


def test_missing_token_asks_for_it_and_writes_nothing(sandbox: RunningSandbox, tmp_path: Path) -> None:
    result = run_init(tmp_path, *base_args(sandbox), token=None)
    assert result.returncode != 0
    assert "CONFLUENCE_API_TOKEN" in result.stderr
    assert not (tmp_path / "mdsync.yaml").exists()


def test_no_check_writes_without_a_connection(tmp_path: Path) -> None:
    result = run_init(tmp_path, "--url", "https://example.atlassian.net", "--email", "a@example.com",
                      "--space", "DOCS", "--no-check", token=None)
    assert result.returncode == 0, result.stderr
    assert "url: https://example.atlassian.net" in (tmp_path / "mdsync.yaml").read_text()


def test_an_existing_config_is_kept_unless_forced(sandbox: RunningSandbox, tmp_path: Path) -> None:
    (tmp_path / "mdsync.yaml").write_text("# mine\n")
    result = run_init(tmp_path, *base_args(sandbox))
    assert result.returncode != 0
    assert "--force" in result.stderr
    assert (tmp_path / "mdsync.yaml").read_text() == "# mine\n"
    assert run_init(tmp_path, *base_args(sandbox), "--force").returncode == 0
    assert "space: DOCS" in (tmp_path / "mdsync.yaml").read_text()


@pytest.mark.parametrize("docs", ["my docs", "it's", "a: b"])
def test_awkward_folder_names_are_quoted(tmp_path: Path, docs: str) -> None:
    result = run_init(tmp_path, "--url", "https://example.atlassian.net", "--email", "a@example.com",
                      "--space", "DOCS", "--docs", docs, "--no-check", token=None)
    assert result.returncode == 0, result.stderr
    config = load_config(tmp_path / "mdsync.yaml", environ={"CONFLUENCE_API_TOKEN": "x"})
    assert config.docs == (tmp_path / docs).resolve()


def test_missing_answers_without_a_terminal_are_a_clear_error(tmp_path: Path) -> None:
    result = run_init(tmp_path, "--email", "a@example.com", "--space", "DOCS", "--no-check", token=None)
    assert result.returncode != 0
    assert "--help" in result.stderr
    assert not (tmp_path / "mdsync.yaml").exists()


def test_a_space_the_account_may_not_add_pages_to_writes_nothing(sandbox: RunningSandbox, tmp_path: Path) -> None:
    sandbox.box.read_only_spaces = {"DOCS"}
    result = run_init(tmp_path, *base_args(sandbox))
    assert result.returncode != 0
    assert "may not add pages" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "mdsync.yaml").exists()


# --------------------------------------------------------------------------- the template


def test_render_writes_the_answers_under_their_comments() -> None:
    text = render("https://a.atlassian.net", "token", None, "DOCS", None, "docs")
    written = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert written == [
        "confluence:",
        "  url: https://a.atlassian.net",
        "  auth: token",
        "  email: ${CONFLUENCE_EMAIL}",
        "  token: ${CONFLUENCE_API_TOKEN}   # never put the token itself here",
        "space: DOCS",
        "parent: null",
        "docs: 'docs'",
        "sync:",
        "  on_conflict: " + str(SyncConfig().on_conflict),
        "  delete: keep",
        "  max_delete: 20%",
        "  concurrency: 8",
    ]
    lines = text.splitlines()
    assert lines[lines.index("  url: https://a.atlassian.net") - 1].startswith("  # ")  # its comment above it
    maton = [line for line in render("https://api.maton.ai", "maton", "a@b.test", "DOCS", "it's",
                                     "my docs").splitlines() if line and not line.lstrip().startswith("#")]
    assert maton[2:7] == ["  auth: maton", "  token: ${MATON_API_KEY}   # never put the token itself here",
                          "space: DOCS", "parent: 'it''s'", "docs: 'my docs'"]
    assert not any("email" in line for line in maton)  # maton signs in with the key alone


@pytest.mark.parametrize("auth", ["token", "bearer", "maton"])
def test_rendered_file_explains_every_key_of_its_mode_itself(auth: str) -> None:
    """No pointer to mdsync.yaml.example (an installed wheel has none): the file holds every key of
    its auth mode with its comment, the ones init does not answer commented out at their defaults."""
    text = render("https://a.atlassian.net", auth, "me@a.test", "DOCS", "Home", "docs")
    assert "mdsync.yaml.example" not in text
    for key in KEYS:
        if key.modes and auth not in key.modes:
            assert f" {key.leaf}:" not in text and f"{key.leaf}:" not in text.splitlines()
            continue
        assert key.doc[0] in text, key.name
        indent = "  " if key.section else ""
        if key.init is None:
            assert f"{indent}# {key.leaf}: " in text, key.name


@pytest.mark.parametrize("auth", ["token", "bearer", "maton"])
def test_rendered_file_reads_back_with_the_answers_and_schema_defaults(tmp_path: Path, auth: str) -> None:
    text = render("https://a.atlassian.net", auth, "me@a.test", "DOCS", "Home", "docs")
    config = parse_config(text, root=tmp_path, environ={"CONFLUENCE_API_TOKEN": "t1", "MATON_API_KEY": "m1"})
    assert (config.confluence.auth, config.space, config.parent) == (auth, "DOCS", "Home")
    assert config.docs == tmp_path / "docs"
    token = config.confluence.token
    assert token is not None and token.reveal() == ("m1" if auth == "maton" else "t1")
    assert config.sync == SyncConfig()
    assert "t1" not in text and "m1" not in text
