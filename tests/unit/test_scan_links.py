"""The scan resolves symbolic links only where there are some (issue 16: a realpath for each
of 10,000 files was a fifth of a no-op sync), and still refuses each link that leads out.

Real files and links in a temporary folder; the calls to os.path.realpath are counted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mdsync import docs
from mdsync.docs import Reach, scan


def test_plain_files_are_not_resolved_one_by_one_and_links_still_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repository, outside = tmp_path / "repo", tmp_path / "elsewhere"
    tree = repository / "docs"
    for folder in range(5):
        (tree / f"area-{folder}").mkdir(parents=True)
        for number in range(20):
            (tree / f"area-{folder}" / f"page-{number}.md").write_text(f"# Page {folder}.{number}\n", encoding="utf-8")
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n", encoding="utf-8")
    os.symlink(outside / "secret.md", tree / "area-0" / "secret.md")
    os.symlink(tree / "area-1" / "page-0.md", tree / "area-0" / "alias.md")
    reach = Reach.of(repository, tree)
    resolved: list[str] = []
    real = os.path.realpath
    monkeypatch.setattr(docs.os.path, "realpath", lambda path, **kw: resolved.append(str(path)) or real(path, **kw))

    found = scan(tree, reach=reach)

    assert len([path for path, doc in found.items() if doc.refused is None and path.endswith(".md")]) == 101
    assert "outside the repository" in (found["area-0/secret.md"].refused or "")
    assert found["area-0/alias.md"].refused is None  # a link that stays inside is read
    # The docs folder once, and the two links: not the hundred plain files.
    assert len(resolved) <= 6, resolved
