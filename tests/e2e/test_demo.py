"""`mdsync demo` runs the whole story against its own sandbox, on the sample docs shipped in the
package or on any docs folder, and never touches the folder it copies."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdsync.cli.demo import (
    COLLEAGUE_NOTE,
    COLLEAGUE_TIP,
    LOCAL_EDIT,
    SAMPLE_DOCS,
    _add_near_top,
)


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def _demo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdsync", "demo", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180, env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_demo_tells_the_story_on_the_sample_docs_without_changing_them(tmp_path: Path) -> None:
    before = _digest(SAMPLE_DOCS)
    result = _demo(cwd=tmp_path)  # no repository around: the sample docs come from the package
    assert result.returncode == 0, result.stderr
    out = result.stdout
    pages = len(list(SAMPLE_DOCS.rglob("*.md")))
    # index.md is the body of the home page (the demo's config says home_page: write).
    assert f"Push: 1 adopted, {pages - 1} created" in out
    assert "Push: nothing to do" in out  # the second push writes nothing
    assert "the page Getting started" in out  # the first file by name that is a page of its own
    assert "Pull: 1 pulled" in out and f"+{COLLEAGUE_TIP}" in out
    assert "Sync: 1 merged" in out and f"+{COLLEAGUE_NOTE}" in out and f"+{LOCAL_EDIT}" in out
    assert "A last sync finds both sides in step: Sync: nothing to do" in out
    assert _digest(SAMPLE_DOCS) == before


def test_demo_tells_the_story_on_any_docs_folder(tmp_path: Path) -> None:
    docs = tmp_path / "mine"
    (docs / "notes").mkdir(parents=True)
    (docs / "notes" / "index.md").write_text("# Notes\n\nAll the notes.\n", encoding="utf-8")
    (docs / "notes" / "todo.md").write_text("---\ntitle: To do\n---\n\n- one\n- two\n", encoding="utf-8")
    before = _digest(docs)
    result = _demo("--docs", str(docs), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Push: 2 created" in out and "the page To do" in out  # a page of its own before an index page
    assert "Sync: 1 merged" in out and f"+{LOCAL_EDIT}" in out and f"+{COLLEAGUE_NOTE}" in out
    assert "A last sync finds both sides in step: Sync: nothing to do" in out
    assert _digest(docs) == before


def test_demo_on_a_folder_without_a_page_says_what_it_needs(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _demo("--docs", str(tmp_path / "empty"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "no Markdown file of" in result.stderr and "pass --docs with a folder of Markdown files" in result.stderr


@pytest.mark.parametrize("command", [["demo"], ["sandbox", "serve", "--port", "0"]])
def test_without_the_sandbox_extra_the_commands_say_how_to_install_it(tmp_path: Path, command: list[str]) -> None:
    # As a wheel installed without [sandbox]: starlette cannot be imported (None in sys.modules).
    probe = ("import sys\nsys.modules['starlette'] = None\nfrom mdsync.cli import main\n"
             f"main({command!r})")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "pip install 'mdsync[sandbox]'" in result.stderr and "starlette" in result.stderr
    listing = subprocess.run([sys.executable, "-c", probe.replace(f"main({command!r})", "main(['--help'])")],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and "demo" in listing.stdout and "sandbox" in listing.stdout, listing.stderr


def test_demo_adds_its_line_after_the_front_matter_and_the_title() -> None:
    assert _add_near_top("---\ntitle: T\n---\n\nText.\n", "New.") == "---\ntitle: T\n---\n\nNew.\n\nText.\n"
    assert _add_near_top("# T\n\nText.\n", "New.") == "# T\n\nNew.\n\nText.\n"
    assert _add_near_top("# T\r\n\r\nText.\r\n", "New.") == "# T\r\n\r\nNew.\r\n\r\nText.\r\n"
    assert _add_near_top("# T", "New.") == "# T\n\nNew.\n"


def test_demo_reports_a_missing_docs_folder_in_one_sentence(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mdsync", "demo", "--docs", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
