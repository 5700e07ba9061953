"""Tests for mdsync.config: loading, validation messages (with their lines), interpolation,
environment fallbacks and keeping the token secret."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import yaml

from mdsync import strict_yaml
from mdsync.config import (
    Config,
    ConfluenceConfig,
    Secret,
    SyncConfig,
    load_config,
    parse_config,
    schema,
)
from mdsync.config.model import PullConfig, model_value
from mdsync.config.template import example_text
from mdsync.convert.frontmatter import FrontMatterError, split_front_matter
from mdsync.errors import ConfigError
from mdsync.vocabulary import AuthMode, ConflictPolicy, DeletePolicy, FileNames
from tests.support import REPO

ROOT = Path("/srv/project")
TOKEN = "tok-3xAmpl3-S3CR3T-value"


def parse(text: str, env: dict[str, str] | None = None) -> Config:
    return parse_config(dedent(text), root=ROOT, environ=env or {})


def error(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text, env)
    return str(info.value)


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of ``text`` that contains ``needle``."""
    lines = [i for i, line in enumerate(dedent(text).splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} should be on exactly one line"
    return lines[0]


# --------------------------------------------------------------------------- defaults


def test_minimal_file_gets_every_default() -> None:
    config = parse("space: DOCS\n")
    assert config.path is None
    assert config.root == ROOT
    assert config.space == "DOCS"
    assert config.parent is None
    assert config.docs == ROOT / "docs"
    assert config.include == ("**/*.md",)
    assert config.exclude == ()
    assert config.sync == SyncConfig()
    assert config.sync.on_conflict == "auto"
    assert config.sync.delete == "keep"
    assert config.sync.max_delete_share == 0.2
    assert config.sync.max_delete_count is None
    assert config.sync.concurrency == 8
    c = config.confluence
    assert (c.url, c.auth, c.email, c.token, c.cloud_id, c.connection, c.rate_limit) == (
        None, "token", None, None, None, None, None,
    )
    assert config.state_dir == ROOT / ".mdsync"


def test_empty_sections_mean_defaults() -> None:
    config = parse("space: DOCS\nconfluence:\nsync:\ninclude:\n")
    assert config.sync == SyncConfig()
    assert config.confluence.auth == "token"
    assert config.include == ("**/*.md",)


def test_full_file_is_read() -> None:
    config = parse(
        """\
        confluence:
          url: https://acme.atlassian.net
          auth: bearer
          email: me@acme.test
          token: literal-token
          cloud_id: 1a2b3c
          connection: conn-1
          rate_limit: 2.5
        space: ENG
        parent: Handbook
        docs: site/content
        include: "*.md"
        exclude: [drafts/**, "**/_*.md"]
        sync:
          on_conflict: merge
          delete: trash
          max_delete: 3
          concurrency: 64
        """
    )
    c = config.confluence
    assert c.url == "https://acme.atlassian.net"
    assert c.auth == "bearer"
    assert c.email == "me@acme.test"
    assert c.token == Secret("literal-token")
    assert (c.cloud_id, c.connection, c.rate_limit) == ("1a2b3c", "conn-1", 2.5)
    assert config.space == "ENG"
    assert config.parent == "Handbook"
    assert config.docs == ROOT / "site" / "content"
    assert config.include == ("*.md",)
    assert config.exclude == ("drafts/**", "**/_*.md")
    assert config.sync == SyncConfig(
        on_conflict="merge", delete="trash", max_delete_share=None, max_delete_count=3, concurrency=64
    )


def test_config_is_frozen_and_hashable() -> None:
    config = parse("space: DOCS\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.space = "OTHER"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.sync.concurrency = 1  # type: ignore[misc]
    assert hash(config) == hash(parse("space: DOCS\n"))


def test_docs_may_be_absolute_or_climb_out_of_root() -> None:
    assert parse("space: D\ndocs: /var/docs\n").docs == Path("/var/docs")
    assert parse("space: D\ndocs: ../shared/docs\n").docs == Path("/srv/shared/docs")
    assert parse("space: D\ndocs: ./docs/\n").docs == ROOT / "docs"


def test_include_outside_lists_paths_relative_to_the_config_file() -> None:
    assert parse("space: DOCS\n").include_outside == ()
    config = parse("space: DOCS\ninclude_outside: [../shared-assets, /srv/logos/logo.png, art]\n")
    assert config.include_outside == (Path("/srv/shared-assets"), Path("/srv/logos/logo.png"), ROOT / "art")
    assert parse("space: DOCS\ninclude_outside: ../shared-assets\n").include_outside == (Path("/srv/shared-assets"),)
    assert config.redacted()["include_outside"] == ["/srv/shared-assets", "/srv/logos/logo.png", "/srv/project/art"]
    text = "space: DOCS\ninclude_outside: [../ok, 3, '']\n"
    message = error(text)
    assert "include_outside[1] must be a path, got 3 (line 2)" in message
    assert "include_outside[2] must be a non-empty path (line 2)" in message


def test_parent_integer_is_stored_as_text_as_typed() -> None:
    assert parse("space: D\nparent: 98765\n").parent == "98765"
    # YAML 1.1 would read 0123 as octal 83; the page id is what was typed.
    assert parse("space: D\nparent: 0123\n").parent == "0123"
    assert parse("space: D\nparent: 'Team home'\n").parent == "Team home"
    assert parse("space: D\nparent: ''\n").parent is None


@pytest.mark.parametrize("key", ["DOCS", "dev_2", "~jdoe", "~557058:0f1e2d3c-aaaa-bbbb"])
def test_valid_space_keys(key: str) -> None:
    assert parse(f"space: '{key}'\n").space == key


def test_numeric_space_key_keeps_its_text() -> None:
    assert parse("space: 2024\n").space == "2024"


@pytest.mark.parametrize(
    ("value", "share", "count"),
    [("20%", 0.2, None), ("0%", 0.0, None), ("100%", 1.0, None), ("12.5%", 0.125, None),
     ("0", None, 0), ("15", None, 15), ("null", None, None)],
)
def test_max_delete_forms(value: str, share: float | None, count: int | None) -> None:
    sync = parse(f"space: D\nsync:\n  max_delete: {value}\n").sync
    assert sync.max_delete_share == share
    assert sync.max_delete_count == count


# --------------------------------------------------------------------------- the example


def test_example_file_parses_with_its_env_vars() -> None:
    text = (REPO / "mdsync.yaml.example").read_text(encoding="utf-8")
    env = {"CONFLUENCE_EMAIL": "writer@example.com", "CONFLUENCE_API_TOKEN": TOKEN}
    config = parse_config(text, root=ROOT, source="mdsync.yaml.example", environ=env)
    assert config.confluence.url == "https://example.atlassian.net"
    assert config.confluence.email == "writer@example.com"
    assert config.confluence.token is not None and config.confluence.token.reveal() == TOKEN
    assert config.space == "DOCS"
    assert config.sync.max_delete_share == 0.2
    config.confluence.require_credentials()  # nothing missing


def test_example_file_documents_every_key() -> None:
    lines = (REPO / "mdsync.yaml.example").read_text(encoding="utf-8").splitlines()
    keys: list[str] = []
    for i, line in enumerate(lines):
        match = re.match(r"\s*([a-z_]+):", line)
        if not match:
            continue
        keys.append(match.group(1))
        if match.group(1) in ("confluence", "sync", "pull"):
            continue  # section headers; their keys carry the comments
        # A comment directly above the key, or at the end of its line.
        above = lines[i - 1].strip() if i else ""
        assert above.startswith("#") or "#" in line, f"{match.group(1)} has no comment"
    assert sorted(keys) == sorted(
        ["confluence", "url", "auth", "email", "token", "cloud_id", "connection", "rate_limit", "gateway", "space",
         "parent", "docs", "include", "exclude", "include_outside", "folders", "home_page", "sync", "on_conflict",
         "delete", "max_delete", "concurrency", "pull", "filenames"]
    )


# --------------------------------------------------------------------------- validation


CASES = [
    # (yaml, expected text in the message, text on the line the message must name)
    ("space: D\nsync:\n  concurrency: x\n", "sync.concurrency must be a positive integer, got 'x'", "concurrency"),
    ("space: D\nsync:\n  concurrency: yes\n", "sync.concurrency must be a positive integer, got the boolean yes", "concurrency"),
    ("space: D\nsync:\n  concurrency: 0\n", "sync.concurrency must be between 1 and 64, got 0", "concurrency"),
    ("space: D\nsync:\n  concurrency: 65\n", "sync.concurrency must be between 1 and 64, got 65", "concurrency"),
    ("space: D\nsync:\n  concurrency: 2.5\n", "sync.concurrency must be a positive integer, got 2.5", "concurrency"),
    ("space: D\nsync:\n  concurrency: '8'\n", "sync.concurrency must be a positive integer, got '8'", "concurrency"),
    ("space: D\nsync:\n  concurrency: [8]\n", "sync.concurrency must be a positive integer, got a list", "concurrency"),
    ("space: D\nsync:\n  on_conflict: merg\n",
     "sync.on_conflict must be one of auto, stop, merge, local, remote, got 'merg'", "on_conflict"),
    ("space: D\nsync:\n  delete: purge\n", "sync.delete must be one of keep, trash, got 'purge'", "delete"),
    ("space: D\nsync:\n  delete: no\n", "sync.delete must be one of keep, trash, got the boolean no", "delete"),
    ("space: D\nsync:\n  max_delete: 120%\n", "sync.max_delete must be a share from 0% to 100%, got '120%'", "max_delete"),
    ("space: D\nsync:\n  max_delete: -1\n", "sync.max_delete must not be negative, got -1", "max_delete"),
    ("space: D\nsync:\n  max_delete: 0.2\n",
     "sync.max_delete must be a share like '20%' or a whole number of pages, got 0.2", "max_delete"),
    ("space: D\nsync:\n  max_delete: lots\n",
     "sync.max_delete must be a share like '20%' or a whole number of pages, got 'lots'", "max_delete"),
    ("space: D\nsync:\n  max_delete: true\n",
     "sync.max_delete must be a share like '20%' or a whole number of pages, got the boolean true", "max_delete"),
    ("space: D\nsync: [a]\n", "sync must be a mapping of keys, got a list", "sync"),
    ("space: D\npull:\n  filenames: titles\n", "pull.filenames must be one of slug, title, got 'titles'", "filenames"),
    ("space: D\npull: slug\n", "pull must be a mapping of keys, got 'slug'", "pull"),
    ("space: D\nconfluence: 5\n", "confluence must be a mapping of keys, got 5", "confluence"),
    ("space: D\nconfluence:\n  auth: basic\n", "confluence.auth must be one of token, bearer, maton, got 'basic'", "auth"),
    ("space: D\nconfluence:\n  rate_limit: 0\n",
     "confluence.rate_limit must be a positive number of requests per second, got 0", "rate_limit"),
    ("space: D\nconfluence:\n  rate_limit: -3\n",
     "confluence.rate_limit must be a positive number of requests per second, got -3", "rate_limit"),
    ("space: D\nconfluence:\n  rate_limit: fast\n",
     "confluence.rate_limit must be a positive number of requests per second, got 'fast'", "rate_limit"),
    ("space: D\nconfluence:\n  rate_limit: on\n",
     "confluence.rate_limit must be a positive number of requests per second, got the boolean on", "rate_limit"),
    ("space: D\nconfluence:\n  rate_limit: .inf\n",
     "confluence.rate_limit must be a positive number of requests per second, got .inf", "rate_limit"),
    ("space: D\nconfluence:\n  url: ftp://files.acme.test\n",
     "confluence.url must be an https:// URL with a host name, got 'ftp://files.acme.test'", "url"),
    ("space: D\nconfluence:\n  url: acme.atlassian.net\n",
     "confluence.url must be an https:// URL with a host name, got 'acme.atlassian.net'", "url"),
    ("space: D\nconfluence:\n  url: https://\n", "confluence.url must be an https:// URL with a host name", "url"),
    ("space: D\nconfluence:\n  url: https://acme.test/?x=1\n", "confluence.url must not have a query or fragment", "url"),
    ("space: D\nconfluence:\n  url: https://acme.test:99999\n", "confluence.url must be an https:// URL", "url"),
    ("space: D\nconfluence:\n  email: [me]\n", "confluence.email must be an email address, got a list", "email"),
    ("space: D\nconfluence:\n  cloud_id: {a: 1}\n", "confluence.cloud_id must be a string, got a mapping", "cloud_id"),
    ("space: 'my space'\n", "space must be a space key", "space"),
    ("space: DOCS-1\n", "got 'DOCS-1'", "space"),
    ("space: [DOCS]\n", "space must be a space key such as DOCS, got a list", "space"),
    ("space: ''\n", "space is empty", "space"),
    ("space: true\n", "space must be a space key such as DOCS, got the boolean true", "space"),
    ("space: D\nparent: false\n", "parent must be a page id or page title, got the boolean false", "parent"),
    ("space: D\nparent: 1.5\n", "parent must be a page id or page title, got 1.5", "parent"),
    ("space: D\ndocs: [a, b]\n", "docs must be a folder path, got a list", "docs"),
    ("space: D\ninclude: {a: b}\n", "include must be a list of glob patterns, got a mapping", "include"),
    ("space: D\ninclude: []\n", "include must list at least one glob pattern", "include"),
    ("space: D\nexclude:\n  - ok/**\n  - 7\n", "exclude[1] must be a glob pattern string, got 7", "- 7"),
    ("space: D\nexclude:\n  - ''\n", "exclude[0] must be a non-empty glob pattern", "- ''"),
    ("space: D\nsync:\n  # a comment\n\n  concurrency: nope\n", "got 'nope'", "nope"),
]


@pytest.mark.parametrize(("text", "expected", "needle"), CASES)
def test_validation_error_names_key_and_line(text: str, expected: str, needle: str) -> None:
    message = error(text)
    assert message.startswith("mdsync.yaml: ")
    assert expected in message
    assert f"(line {line_of(text, needle)})" in message


def test_concurrency_message_matches_documented_form() -> None:
    text = "space: D\nconfluence:\n  url: https://a.test\n\n\n\n\n\n\n\n\nsync:\n  concurrency: x\n"
    assert error(text) == "mdsync.yaml: sync.concurrency must be a positive integer, got 'x' (line 13)"


def test_missing_space_is_an_error() -> None:
    message = error("docs: docs\n")
    assert "space is missing" in message
    assert "space: DOCS" in message


def test_every_problem_is_reported_in_file_order() -> None:
    text = """\
    sync:
      delete: purge
      concurrency: 0
    space: D
    confluence:
      auth: oauth
    """
    message = error(text)
    assert message.startswith("mdsync.yaml has 3 problems:")
    lines = message.splitlines()[1:]
    assert [ln.split()[1] for ln in lines] == ["sync.delete", "sync.concurrency", "confluence.auth"]
    assert "(line 2)" in lines[0] and "(line 3)" in lines[1] and "(line 6)" in lines[2]


def test_value_suggestion_for_near_miss() -> None:
    assert "did you mean 'merge'?" in error("space: D\nsync:\n  on_conflict: Merge\n")
    assert "did you mean" not in error("space: D\nsync:\n  on_conflict: whatever\n")


def test_error_exit_code_is_usage() -> None:
    with pytest.raises(ConfigError) as info:
        parse("space: D\nsync:\n  concurrency: x\n")
    assert info.value.exit_code == 2


# --------------------------------------------------------------------------- unknown & duplicate keys


def test_unknown_key_suggests_the_close_one() -> None:
    text = "space: D\nsync:\n  on_conflict: stop\n  concurency: 4\n"
    assert error(text) == (
        "mdsync.yaml: unknown key 'sync.concurency' (line 4); did you mean 'sync.concurrency'?"
    )


def test_unknown_key_in_wrong_section_points_to_the_right_one() -> None:
    assert "unknown key 'token' (line 2); did you mean 'confluence.token'?" in error("space: D\ntoken: x\n")
    assert "unknown key 'confluence.concurrency' (line 3); did you mean 'sync.concurrency'?" in error(
        "space: D\nconfluence:\n  concurrency: 3\n"
    )


def test_unknown_key_without_a_near_match_has_no_suggestion() -> None:
    message = error("space: D\nfavourite_colour: blue\n")
    assert message == "mdsync.yaml: unknown key 'favourite_colour' (line 2)"


def test_duplicate_key_names_both_lines() -> None:
    text = "space: D\nsync:\n  concurrency: 2\n  delete: keep\n  concurrency: 4\n"
    message = error(text)
    assert "duplicate key 'sync.concurrency' on lines 3 and 5" in message


def test_duplicate_top_level_key() -> None:
    assert "duplicate key 'space' on lines 1 and 3" in error("space: A\ndocs: d\nspace: B\n")


# --------------------------------------------------------------------------- YAML and file problems


def test_yaml_syntax_error_gives_line() -> None:
    text = "space: D\nsync:\n  concurrency: 4\n delete: keep\n"
    message = error(text)
    assert message.startswith("mdsync.yaml: YAML syntax error on line 4")


def test_unclosed_quote_points_at_where_it_starts() -> None:
    message = error("space: D\nparent: 'Home\ndocs: x\n")
    assert message.startswith("mdsync.yaml: YAML syntax error on line 4: ")
    assert "while scanning a quoted scalar (line 2)" in message


def test_several_documents_are_refused() -> None:
    message = error("space: A\n---\nspace: B\n")
    assert "YAML syntax error on line 2" in message
    assert "single document" in message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    assert error(text).startswith("mdsync.yaml is empty")


@pytest.mark.parametrize(("text", "got"), [("- a\n- b\n", "a list"), ("just text\n", "'just text'")])
def test_top_level_must_be_a_mapping(text: str, got: str) -> None:
    message = error(text)
    assert "top level must be a mapping" in message
    assert f"got {got} (line 1)" in message


def test_control_character_gives_line() -> None:
    assert "line 2" in error("space: D\ndocs: a\x00b\n")


def test_load_config_reads_file(tmp_path: Path) -> None:
    (tmp_path / "mdsync.yaml").write_text("space: DOCS\ndocs: pages\n", encoding="utf-8")
    config = load_config(tmp_path / "mdsync.yaml", environ={})
    assert config.path == tmp_path / "mdsync.yaml"
    assert config.root == tmp_path
    assert config.docs == tmp_path / "pages"
    assert config.state_dir == tmp_path / ".mdsync"
    # A folder means the mdsync.yaml inside it.
    assert load_config(tmp_path, environ={}) == config


def test_load_config_defaults_to_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mdsync.yaml").write_text("space: HERE\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.space == "HERE"
    assert config.root == tmp_path


def test_load_config_accepts_utf8_bom(tmp_path: Path) -> None:
    (tmp_path / "mdsync.yaml").write_bytes(b"\xef\xbb\xbfspace: BOM\nparent: Caf\xc3\xa9\n")
    config = load_config(tmp_path / "mdsync.yaml", environ={})
    assert config.space == "BOM"
    assert config.parent == "Café"


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(environ={})
    assert str(info.value) == (
        f"No mdsync.yaml found in {tmp_path} or any folder above it: run 'mdsync init' in the folder that "
        "holds your docs folder (the repository's root), or pass --config PATH."
    )
    assert info.value.exit_code == 2


def test_the_nearest_config_above_is_found_and_the_search_stops_at_the_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mdsync.yaml").write_text("space: OUTER\n", encoding="utf-8")
    repository = tmp_path / "repo"
    (repository / "docs" / "guides").mkdir(parents=True)
    (repository / "mdsync.yaml").write_text("space: INNER\n", encoding="utf-8")
    monkeypatch.chdir(repository / "docs" / "guides")
    assert load_config(environ={}).space == "INNER"
    (repository / "mdsync.yaml").unlink()
    assert load_config(environ={}).space == "OUTER", "without a repository, the search goes on up"
    (repository / ".git").mkdir()
    with pytest.raises(ConfigError, match="or any folder above it"):
        load_config(environ={})  # the repository's root ends the search: OUTER is outside it


def test_non_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "mdsync.yaml").write_bytes(b"space: D\nparent: Caf\xe9\n")  # Latin-1
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "mdsync.yaml", environ={})
    message = str(info.value)
    assert message.startswith("mdsync.yaml is not UTF-8 text")
    assert "line 2" in message
    assert "UTF-8" in message


def test_error_messages_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "site.yml").write_text("space: D\nsync:\n  delete: nope\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "site.yml", environ={})
    assert str(info.value).startswith("site.yml: sync.delete must be one of keep, trash")


# --------------------------------------------------------------------------- interpolation


def test_interpolation_of_set_variables() -> None:
    config = parse(
        """\
        space: ${SPACE}
        docs: ${BASE}/docs
        include: ["${GLOB}"]
        confluence:
          url: https://${SITE}.atlassian.net
        """,
        {"SPACE": "ENG", "BASE": "site", "GLOB": "**/*.markdown", "SITE": "acme"},
    )
    assert config.space == "ENG"
    assert config.docs == ROOT / "site" / "docs"
    assert config.include == ("**/*.markdown",)
    assert config.confluence.url == "https://acme.atlassian.net"


def test_interpolation_defaults() -> None:
    text = "space: ${SPACE:-DOCS}\nparent: ${PARENT:-Home}\n"
    assert parse(text).space == "DOCS"
    assert parse(text, {"SPACE": "OPS"}).space == "OPS"
    # Like the shell's ":-", an empty variable also takes the default.
    assert parse(text, {"SPACE": ""}).space == "DOCS"
    assert parse(text).parent == "Home"


def test_dollar_dollar_brace_is_a_literal() -> None:
    config = parse("space: D\nexclude: ['$${HOME}/x', 'a$${B}${C}']\n", {"HOME": "/root", "C": "c"})
    assert config.exclude == ("${HOME}/x", "a${B}c")


def test_plain_dollar_is_left_alone() -> None:
    assert parse("space: D\nparent: 'Costs in $ and $USD'\n").parent == "Costs in $ and $USD"


def test_unset_variable_leaves_value_none_and_is_remembered() -> None:
    text = """\
    confluence:
      url: https://acme.atlassian.net
      email: me@acme.test
      token: ${CONFLUENCE_API_TOKEN}
    space: D
    """
    config = parse(text)
    assert config.confluence.token is None
    with pytest.raises(ConfigError) as info:
        config.confluence.require_credentials()
    assert str(info.value) == (
        "confluence.token is empty: export CONFLUENCE_API_TOKEN "
        "(mdsync.yaml line 4 refers to ${CONFLUENCE_API_TOKEN})."
    )


def test_unset_variable_inside_a_longer_string_leaves_none() -> None:
    config = parse("space: D\nconfluence:\n  email: ${USER_NAME}@acme.test\n")
    assert config.confluence.email is None
    with pytest.raises(ConfigError) as info:
        config.confluence.require_credentials()
    assert "export USER_NAME (mdsync.yaml line 3 refers to ${USER_NAME})" in str(info.value)


def test_unset_variable_in_required_key_is_an_error_naming_it() -> None:
    text = "docs: docs\nspace: ${DOCS_SPACE}\n"
    assert error(text) == "mdsync.yaml: space is empty: export DOCS_SPACE (line 2 refers to ${DOCS_SPACE})"


def test_unset_variable_in_optional_key_means_not_set() -> None:
    config = parse("space: D\nconfluence:\n  connection: ${MATON_CONNECTION}\n  cloud_id: ${CLOUD}\n")
    assert config.confluence.connection is None
    assert config.confluence.cloud_id is None


def test_unset_variable_in_parent_is_an_error() -> None:
    # Falling back to the space home would put the tree somewhere the user did not ask for.
    assert error("space: D\nparent: ${PARENT_PAGE}\n") == (
        "mdsync.yaml: parent is empty: export PARENT_PAGE (line 2 refers to ${PARENT_PAGE})"
    )


def test_numbers_from_variables() -> None:
    config = parse(
        "space: D\nconfluence:\n  rate_limit: ${RPS}\nsync:\n  concurrency: ${JOBS}\n  max_delete: ${MAXDEL}\n",
        {"RPS": "4.5", "JOBS": "16", "MAXDEL": "10%"},
    )
    assert config.confluence.rate_limit == 4.5
    assert config.sync.concurrency == 16
    assert config.sync.max_delete_share == 0.1
    bad = error("space: D\nsync:\n  concurrency: ${JOBS}\n", {"JOBS": "many"})
    assert "sync.concurrency must be a positive integer, got 'many' (line 3)" in bad


def test_malformed_reference_is_an_error() -> None:
    message = error("space: D\nparent: ${not closed\n")
    assert "parent holds a '${' that is not a ${NAME} reference" in message
    assert "$${" in message
    assert "(line 2)" in message
    assert "(line 2)" in error("space: D\nparent: ${1BAD}\n")


def test_nested_reference_in_default_is_refused() -> None:
    assert "nests a reference" in error("space: D\nparent: ${A:-${B}}\n")


def test_environ_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDSYNC_TEST_SPACE", "FROMENV")
    monkeypatch.delenv("CONFLUENCE_URL", raising=False)
    config = parse_config("space: ${MDSYNC_TEST_SPACE}\n", root=ROOT)
    assert config.space == "FROMENV"


# --------------------------------------------------------------------------- environment fallbacks


def test_env_fills_keys_the_file_leaves_out() -> None:
    env = {
        "CONFLUENCE_URL": "https://acme.atlassian.net/wiki/",
        "CONFLUENCE_EMAIL": "env@acme.test",
        "CONFLUENCE_API_TOKEN": TOKEN,
        "MATON_API_KEY": "maton-key",
    }
    config = parse("space: D\n", env)
    c = config.confluence
    assert c.url == "https://acme.atlassian.net"
    assert c.email == "env@acme.test"
    assert c.token == Secret(TOKEN)
    c.require_credentials()


def test_file_wins_over_env() -> None:
    env = {
        "CONFLUENCE_URL": "https://env.atlassian.net",
        "CONFLUENCE_EMAIL": "env@acme.test",
        "CONFLUENCE_API_TOKEN": "env-token",
    }
    config = parse(
        "space: D\nconfluence:\n  url: https://file.atlassian.net\n  email: file@acme.test\n  token: file-token\n",
        env,
    )
    assert config.confluence.url == "https://file.atlassian.net"
    assert config.confluence.email == "file@acme.test"
    assert config.confluence.token == Secret("file-token")


def test_null_or_empty_key_falls_back_to_env() -> None:
    env = {"CONFLUENCE_EMAIL": "env@acme.test", "CONFLUENCE_API_TOKEN": "env-token"}
    config = parse("space: D\nconfluence:\n  email: null\n  token: ''\n", env)
    assert config.confluence.email == "env@acme.test"
    assert config.confluence.token == Secret("env-token")


def test_reference_to_unset_var_does_not_fall_back() -> None:
    # The file said where the token comes from; a different variable must not stand in.
    config = parse("space: D\nconfluence:\n  token: ${MY_TOKEN}\n", {"CONFLUENCE_API_TOKEN": "other"})
    assert config.confluence.token is None


def test_maton_uses_maton_key_not_confluence_token() -> None:
    env = {"CONFLUENCE_API_TOKEN": "atlassian-token", "MATON_API_KEY": "maton-key"}
    config = parse("space: D\nconfluence:\n  auth: maton\n", env)
    assert config.confluence.token == Secret("maton-key")
    bearer = parse("space: D\nconfluence:\n  auth: bearer\n", env)
    assert bearer.confluence.token == Secret("atlassian-token")


def test_invalid_env_url_says_where_it_came_from() -> None:
    message = error("space: D\n", {"CONFLUENCE_URL": "http://confluence.acme.test"})
    assert "confluence.url" in message
    assert "(from CONFLUENCE_URL)" in message
    assert "https://" in message


# --------------------------------------------------------------------------- maton


def test_maton_defaults() -> None:
    config = parse("space: D\nconfluence:\n  auth: maton\n  token: ${MATON_API_KEY}\n", {"MATON_API_KEY": "k"})
    assert config.confluence.url == "https://api.maton.ai"
    assert config.confluence.rate_limit == 8
    config.confluence.require_credentials()  # no email needed


def test_maton_explicit_values_are_kept() -> None:
    config = parse(
        "space: D\nconfluence:\n  auth: maton\n  url: http://127.0.0.1:8765\n  rate_limit: 3\n  connection: c-1\n"
    )
    assert config.confluence.url == "http://127.0.0.1:8765"
    assert config.confluence.rate_limit == 3
    assert config.confluence.connection == "c-1"


def test_rate_limit_has_no_default_without_maton() -> None:
    assert parse("space: D\nconfluence:\n  auth: bearer\n").confluence.rate_limit is None


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.atlassian.net", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net/wiki", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net/wiki/", "https://acme.atlassian.net"),
        ("https://proxy.acme.test/confluence/", "https://proxy.acme.test/confluence"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://LOCALHOST/wiki", "http://LOCALHOST"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("http://127.45.6.7", "http://127.45.6.7"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_url_normalised_and_loopback_http_allowed(url: str, expected: str) -> None:
    assert parse(f"space: D\nconfluence:\n  url: '{url}'\n").confluence.url == expected


@pytest.mark.parametrize(
    "url",
    ["http://acme.atlassian.net", "http://10.0.0.5:8080", "http://192.168.1.2", "http://localhost.acme.test",
     "http://[::2]", "http://128.0.0.1"],
)
def test_plain_http_refused_for_non_loopback(url: str) -> None:
    message = error(f"space: D\nconfluence:\n  url: '{url}'\n")
    assert "confluence.url uses plain http" in message
    assert "use https://" in message
    assert "(line 3)" in message


# --------------------------------------------------------------------------- require_credentials


def test_require_credentials_when_nothing_is_set() -> None:
    config = parse("space: D\n")
    with pytest.raises(ConfigError) as info:
        config.confluence.require_credentials()
    message = str(info.value)
    assert "confluence.url is missing: export CONFLUENCE_URL" in message
    assert "confluence.email is missing: export CONFLUENCE_EMAIL" in message
    assert "confluence.token is missing: export CONFLUENCE_API_TOKEN" in message
    assert message.endswith(".")
    assert "\n" not in message


def test_require_credentials_bearer_needs_no_email() -> None:
    config = parse("space: D\nconfluence:\n  auth: bearer\n  url: https://a.test\n", {"CONFLUENCE_API_TOKEN": "t"})
    config.confluence.require_credentials()


def test_require_credentials_names_maton_key() -> None:
    config = parse("space: D\nconfluence:\n  auth: maton\n")
    with pytest.raises(ConfigError) as info:
        config.confluence.require_credentials()
    assert str(info.value) == (
        "confluence.token is missing: export MATON_API_KEY or set confluence.token in mdsync.yaml."
    )


def test_require_credentials_for_empty_key_names_its_line() -> None:
    config = parse("space: D\nconfluence:\n  auth: bearer\n  url: https://a.test\n  token:\n")
    with pytest.raises(ConfigError) as info:
        config.confluence.require_credentials()
    assert "confluence.token is empty in mdsync.yaml (line 5)" in str(info.value)
    assert "export CONFLUENCE_API_TOKEN" in str(info.value)


def test_require_credentials_on_hand_built_config() -> None:
    ConfluenceConfig(url="https://a.test", auth="bearer", token=Secret("x")).require_credentials()
    with pytest.raises(ConfigError, match="export CONFLUENCE_API_TOKEN"):
        ConfluenceConfig(url="https://a.test", auth="bearer").require_credentials()


# --------------------------------------------------------------------------- secrets


def test_secret_behaviour() -> None:
    secret = Secret(TOKEN)
    assert repr(secret) == "Secret('********')"
    assert str(secret) == "********"
    assert f"{secret}" == "********"
    assert TOKEN not in repr([secret]) and TOKEN not in str({"t": secret})
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN)
    assert secret != Secret(TOKEN + "x")
    assert secret != TOKEN  # a Secret is never equal to a bare str
    assert hash(secret) == hash(Secret(TOKEN))
    assert bool(secret) and not bool(Secret(""))
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


def test_hand_built_config_wraps_a_str_token() -> None:
    config = ConfluenceConfig(token=TOKEN)  # type: ignore[arg-type]
    assert isinstance(config.token, Secret)
    assert TOKEN not in repr(config)


def test_token_never_in_repr_str_or_redacted() -> None:
    text = "space: D\nconfluence:\n  url: https://a.test\n  email: e@a.test\n  token: ${T}\n"
    config = parse(text, {"T": TOKEN})
    assert config.confluence.token is not None and config.confluence.token.reveal() == TOKEN
    assert TOKEN not in repr(config)
    assert TOKEN not in str(config)
    redacted = config.redacted()
    assert redacted["confluence"]["token"] == "********"
    assert TOKEN not in json.dumps(redacted)
    assert redacted["space"] == "D"
    assert redacted["sync"]["max_delete"] == "20%"
    assert redacted["docs"] == str(ROOT / "docs")


def test_redacted_without_token_and_with_count() -> None:
    redacted = parse("space: D\nsync:\n  max_delete: 7\n").redacted()
    assert redacted["confluence"]["token"] is None
    assert redacted["sync"]["max_delete"] == 7
    json.dumps(redacted)  # plain data only


@pytest.mark.parametrize(
    "text",
    [
        # other mistakes in a file that holds the token in clear
        f"space: D\nconfluence:\n  token: {TOKEN}\n  auth: oauth\nsync:\n  concurrency: {TOKEN}x\n",
        # a syntax error on the token's own line
        f"space: D\nconfluence:\n  token: '{TOKEN}\n  url: https://a.test\n",
        f"space: D\nconfluence:\n  token: {TOKEN}: more\n",
        # a token of the wrong shape
        f"space: D\nconfluence:\n  token: [{TOKEN}]\n",
        f"space: D\nconfluence:\n  token: {{k: {TOKEN}}}\n",
        # a token typed into the wrong place
        f"space: D\ntoken: {TOKEN}\n",
        f"space: D\nconfluence:\n  toekn: {TOKEN}\n",
        # credentials inside the URL
        f"space: D\nconfluence:\n  url: https://me:{TOKEN}@acme.atlassian.net\n",
        f"space: D\nconfluence:\n  url: http://me:{TOKEN}@example.com\n",
    ],
)
def test_token_never_in_error_messages(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)
    assert all(TOKEN not in str(arg) for arg in info.value.args)


def test_token_value_is_masked_wherever_it_was_pasted() -> None:
    # The token from the environment turns up in another key's value: the message masks it.
    message = error("space: D\nsync:\n  delete: ${CONFLUENCE_API_TOKEN}\n", {"CONFLUENCE_API_TOKEN": TOKEN})
    assert TOKEN not in message
    assert "sync.delete must be one of keep, trash, got '********' (line 3)" in message


def test_token_not_in_syntax_error_of_loaded_file(tmp_path: Path) -> None:
    (tmp_path / "mdsync.yaml").write_text(f"space: D\nconfluence:\n  token: \"{TOKEN}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "mdsync.yaml", environ={})
    assert TOKEN not in str(info.value)
    assert "line 3" in str(info.value)
    # PyYAML's own exception quotes the line; it must not ride along as the cause or context.
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_token_not_in_require_credentials_message() -> None:
    config = parse("space: D\nconfluence:\n  url: https://a.test\n", {"CONFLUENCE_API_TOKEN": TOKEN})
    with pytest.raises(ConfigError) as info:
        config.confluence.require_credentials()  # email is missing
    assert "confluence.email" in str(info.value)
    assert TOKEN not in str(info.value)


def test_numeric_looking_token_is_kept_as_typed() -> None:
    config = parse("space: D\nconfluence:\n  token: 0123\n")
    assert config.confluence.token == Secret("0123")


def test_gateway_defaults_to_atlassian_and_refuses_plain_http_elsewhere() -> None:
    assert parse_config("space: D\n", root=Path("/tmp"), environ={}).confluence.gateway == "https://api.atlassian.com"
    local = parse_config("space: D\nconfluence:\n  gateway: http://127.0.0.1:8090/\n", root=Path("/tmp"), environ={})
    assert local.confluence.gateway == "http://127.0.0.1:8090"
    with pytest.raises(ConfigError, match="gateway"):
        parse_config("space: D\nconfluence:\n  gateway: http://evil.example\n", root=Path("/tmp"), environ={})


# --------------------------------------------------------------------------- the schema


def _dotted(data: dict[str, Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, value in data.items():
        if isinstance(value, dict):
            names |= _dotted(value, f"{prefix}{name}.")
        else:
            names.add(prefix + name)
    return names


def test_example_file_is_what_the_schema_generates() -> None:
    checked_in = (REPO / "mdsync.yaml.example").read_text(encoding="utf-8")
    assert checked_in == example_text(), (
        "mdsync.yaml.example is out of step with mdsync/config/schema.py; regenerate it with "
        "'python -m mdsync.config.template > mdsync.yaml.example'"
    )


def test_every_schema_key_is_in_the_example_and_in_redacted() -> None:
    names = {key.name for key in schema.KEYS}
    example = yaml.safe_load((REPO / "mdsync.yaml.example").read_text(encoding="utf-8"))
    assert _dotted(example) == names
    redacted = parse("space: D\n").redacted()
    assert redacted.pop("path") is None and redacted.pop("root") == str(ROOT)
    assert _dotted(redacted) == names


def test_every_fallback_and_choice_is_documented_where_the_key_is() -> None:
    for key in schema.KEYS:
        doc = " ".join(key.doc)
        for variable in (key.env, key.maton_env):
            assert variable is None or variable in doc, f"{key.name}: {variable} is not mentioned in its comment"
        for word in key.choices:
            assert re.search(rf"\b{word}\b", doc), f"{key.name}: the choice {word!r} is not explained"


def test_model_defaults_agree_with_the_schema() -> None:
    holders = {"confluence": ConfluenceConfig(), "sync": SyncConfig(), "pull": PullConfig()}
    for key in schema.KEYS:
        if key.section:
            assert model_value(key, holders[key.section]) == key.default, key.name
    top = {f.name: f.default for f in dataclasses.fields(Config) if f.default is not dataclasses.MISSING}
    assert (top["include"], top["exclude"]) == (schema.BY_NAME["include"].default, schema.BY_NAME["exclude"].default)


def test_pulled_file_names_are_slugs_unless_the_file_asks_for_titles() -> None:
    assert parse("space: D\n").pull.filenames is FileNames.SLUG
    assert parse("space: D\npull:\n").pull == PullConfig()  # an empty section: the defaults
    assert parse("space: D\npull:\n  filenames: title\n").pull.filenames is FileNames.TITLE
    assert parse("space: D\npull:\n  filenames: title\n").redacted()["pull"] == {"filenames": "title"}


def test_auth_choices_are_the_auth_modes() -> None:
    assert schema.AUTH.choices == ("token", "bearer", "maton") == tuple(AuthMode)
    assert parse("space: D\nconfluence:\n  auth: bearer\n").confluence.auth is AuthMode.BEARER


# --------------------------------------------------------------------------- strict YAML


PLAIN_ONLY = "only plain text, numbers, true/false, lists and mappings are allowed, so remove the tag"


def test_a_tag_that_would_build_an_object_is_refused_in_one_sentence() -> None:
    assert error("space: !!python/object:os.system x\n") == (
        f"mdsync.yaml: space has the YAML tag '!!python/object:os.system'; {PLAIN_ONLY} (line 1)"
    )


@pytest.mark.parametrize(
    ("text", "expected", "line"),
    [
        ("space: D\nparent: !!binary aGVsbG8=\n", "parent has the YAML tag '!!binary'", 2),
        ("space: D\nparent: !custom x\n", "parent has the YAML tag '!custom'", 2),
        ("space: D\nexclude:\n  - ok\n  - !!python/name:os.system ''\n",
         "exclude[1] has the YAML tag '!!python/name:os.system'", 4),
        ("space: D\nexclude: !!omap [a: 1]\n", "exclude has the YAML tag '!!omap'", 2),
        ("space: D\nsync: !!python/object:x {delete: keep}\n", "sync has the YAML tag '!!python/object:x'", 2),
        ("!!python/object:x\nspace: D\n", "the top level has the YAML tag '!!python/object:x'", 1),
        ("space: D\n!!python/name:os.system x: 1\n", "keys must be plain names, got one with the YAML tag", 2),
    ],
)
def test_tags_are_refused_wherever_they_are(text: str, expected: str, line: int) -> None:
    message = error(text)
    assert expected in message
    assert PLAIN_ONLY in message or "keys must be plain names" in message
    assert message.endswith(f"(line {line})")


def test_a_tagged_token_is_refused_without_quoting_tag_or_value() -> None:
    for tag in ("!!binary", f"!{TOKEN}"):
        text = f"space: D\nconfluence:\n  token: {tag} {TOKEN}\n"
        message = error(text)
        assert message == "mdsync.yaml: confluence.token must be plain text, without a YAML tag (line 3)"


def test_an_alias_bomb_is_refused_quickly() -> None:
    lines = ["space: D", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    started = time.perf_counter()
    message = error("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert re.fullmatch(r"mdsync\.yaml: anchors and aliases expand into far more data than is written "
                        r"\(line \d+\); use fewer aliases\.", message)


def test_a_recursive_alias_is_refused() -> None:
    assert error("space: D\nloop: &l [a, *l]\n") == (
        "mdsync.yaml: an alias refers to the list or mapping that contains it (line 2); remove the alias."
    )


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    assert "nests lists or mappings too deeply" in error("space: D\nx: " + "[" * 5000 + "]" * 5000 + "\n")


@pytest.mark.parametrize("value", ["!!int abc", "9" * 5000])
def test_a_number_yaml_cannot_build_names_the_key(value: str) -> None:
    assert error(f"space: D\nsync:\n  concurrency: {value}\n") == (
        "mdsync.yaml: sync.concurrency has a value YAML cannot read as !!int; quote it to keep it as text (line 3)"
    )


def test_dates_and_other_plain_scalars_are_kept_as_written() -> None:
    config = parse("space: D\nparent: 2024-01-15\ndocs: 2024-01-15\nexclude: [2024-01-15, =]\n")
    assert config.parent == "2024-01-15"
    assert config.docs == ROOT / "2024-01-15"
    assert config.exclude == ("2024-01-15", "=")


def test_merge_keys_apply_and_explicit_keys_win() -> None:
    sync = parse("space: D\nsync:\n  <<: {delete: trash, concurrency: 2}\n  concurrency: 5\n").sync
    assert (sync.delete, sync.concurrency) == ("trash", 5)
    assert error("space: D\nsync:\n  <<: 3\n") == (
        "mdsync.yaml: '<<' in sync must merge a mapping or a list of mappings, got 3 (line 3)"
    )
    assert "unknown key 'sync.colour' (line 3)" in error("space: D\nsync:\n  <<: {colour: red}\n")


def test_lines_count_only_newlines() -> None:
    # YAML also breaks lines at NEL and U+2028; editors and the front matter reader do not.
    assert error("space: D\nparent: 'a\x85b\u2028c'\nsync: 3\n") == (
        "mdsync.yaml: sync must be a mapping of keys, got 3 (line 3)"
    )


def test_config_and_front_matter_share_one_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int, int]] = []

    class Recording(strict_yaml.DuplicateKey):
        def __init__(self, line: int, key: Any, first_line: int) -> None:
            seen.append((key, first_line, line))
            super().__init__(line, key, first_line)

    monkeypatch.setattr(strict_yaml, "DuplicateKey", Recording)
    assert "duplicate key 'space' on lines 1 and 3" in error("space: A\ndocs: d\nspace: B\n")
    with pytest.raises(FrontMatterError) as info:
        split_front_matter("---\ntitle: A\ntitle: B\n---\n")
    assert info.value.line == 3
    assert seen == [("space", 1, 3), ("title", 2, 3)]

    # One alias bound too: with no room for aliases, a single one is refused by both.
    monkeypatch.setattr(strict_yaml, "MAX_ALIAS_NODES", 0)
    assert "aliases expand" in error("space: D\ninclude: &p ['*.md']\nexclude: *p\n")
    with pytest.raises(FrontMatterError, match="aliases expand"):
        split_front_matter("---\na: &x [1]\nb: *x\n---\n")


def test_models_built_in_code_keep_enums_not_strings() -> None:
    confluence = ConfluenceConfig(auth="bearer", token="t")  # type: ignore[arg-type]
    assert confluence.auth is AuthMode.BEARER
    assert confluence.token is not None and not isinstance(confluence.token, str)
    policies = SyncConfig(on_conflict="merge", delete="trash")  # type: ignore[arg-type]
    assert policies.on_conflict is ConflictPolicy.MERGE and policies.delete is DeletePolicy.TRASH
    with pytest.raises(ValueError):
        ConfluenceConfig(auth="password")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SyncConfig(on_conflict="ask")  # type: ignore[arg-type]
