"""Reading Markdown files safely, resolving links in a folder, and `mdsync convert`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mdsync.constructs import constructs_table
from mdsync.docs import (
    InputError,
    LocalDoc,
    folder_links,
    heading_anchors,
    read_markdown,
    scan,
    title_of,
)
from mdsync.vocabulary import TitleSource
from tests.support import REPO


def mdsync(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdsync", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


@pytest.mark.parametrize(("content", "fragment"), [
    (b"caf\xe9 au lait\n", "not UTF-8 text (byte 0xe9 on line 1)"),
    (b"line\nline\n\xff\xfe", "on line 3"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like a binary file"),
])
def test_bad_files_get_one_sentence(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(content)
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_markdown(path)


def test_huge_missing_and_folder_inputs(tmp_path: Path) -> None:
    huge = tmp_path / "huge.md"
    huge.write_bytes(b"x" * (4 * 1024 * 1024 + 1))
    with pytest.raises(InputError, match="split it into several files"):
        read_markdown(huge)
    with pytest.raises(InputError, match="does not exist"):
        read_markdown(tmp_path / "nope.md")
    with pytest.raises(InputError, match="is a folder"):
        read_markdown(tmp_path)


def test_utf8_bom_and_crlf_are_read_as_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "win.md"
    path.write_bytes("\ufeff# Title\r\nBody\r\n".encode())
    assert read_markdown(path) == "# Title\nBody\n"


def test_titles_and_anchors_of_a_file() -> None:
    def title(text: str, path: str, folder: str | None = None) -> tuple[str, TitleSource]:
        info = title_of(text, LocalDoc(path, None, None, folder))
        return info.title, info.title_source

    assert title("---\ntitle: From front\n---\n# H1", "a.md") == ("From front", TitleSource.FRONT_MATTER)
    assert title("# Opening\n\nbody", "a.md") == ("Opening", TitleSource.HEADING)
    assert title("intro\n\n# The *H1*", "a.md") == ("The H1", TitleSource.HEADING_KEPT)
    assert title("no heading", "dir/my-page.md") == ("my-page", TitleSource.FILENAME)
    assert title("no heading", "guides/index.md", "guides") == ("guides", TitleSource.FOLDER)
    assert heading_anchors("## Install on Linux\n## Install on Linux") == {
        "install-on-linux": "Install-on-Linux", "install-on-linux-1": "Install-on-Linux.1"}


def test_folder_resolver_pages_attachments_index_and_escapes(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "index.md").write_text("# Guides\n", encoding="utf-8")
    (tmp_path / "guides" / "setup.md").write_text("# Setup\n\n## On Linux\n", encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    resolver = folder_links(tmp_path, scan(tmp_path))
    setup = resolver.link("guides/setup.md", "on-linux")
    assert setup is not None and (setup.kind, setup.title, setup.anchor) == ("page", "Setup", "On-Linux")
    folder = resolver.link("guides/", None)
    assert folder is not None and folder.title == "Guides"
    pdf = resolver.link("report.pdf", None)
    assert pdf is not None and (pdf.kind, pdf.path) == ("attachment", "report.pdf")
    assert resolver.link("missing.md", None) is None
    assert resolver.link("../outside.md", None) is None
    assert resolver.image("report.pdf") is not None and resolver.image("gone.png") is None


def test_convert_command_prints_storage_and_reports_warnings(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("---\ntitle: The Other\n---\nx\n", encoding="utf-8")
    (tmp_path / "page.md").write_text("# Page\n\nSee [o](other.md) and [m](missing.md).\n", encoding="utf-8")
    result = mdsync("convert", str(tmp_path / "page.md"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '<p>See <ac:link><ri:page ri:content-title="The Other" /><ac:link-body>o'
        '</ac:link-body></ac:link> and <a href="missing.md">m</a>.</p>')
    assert "warning:" in result.stderr and "missing.md" in result.stderr


def test_convert_command_json_report(tmp_path: Path) -> None:
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    (tmp_path / "page.md").write_text("---\nlabels: [a, b]\n---\n# T\n\n![i](img.png)\n", encoding="utf-8")
    result = mdsync("convert", str(tmp_path / "page.md"), "--json")
    report = json.loads(result.stdout)
    assert report["title"] == "T" and report["labels"] == ["a", "b"]
    assert report["attachments"] == [{"path": "img.png", "filename": "img.png"}]


def test_convert_command_errors_are_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"\xff\xfe\x00x")
    result = mdsync("convert", str(bad))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "binary" in result.stderr
    broken = tmp_path / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    result = mdsync("convert", str(broken))
    assert result.returncode == 1 and "line 2" in result.stderr and "Traceback" not in result.stderr


def test_readme_construct_table_is_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- constructs:start -->\n", "\n<!-- constructs:end -->"
    assert readme[readme.index(start) + len(start) : readme.index(end)] == constructs_table()
