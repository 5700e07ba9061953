"""`mdsync demo` runs the whole story against its own sandbox and never touches the repository."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_demo_tells_the_story_on_the_sample_docs_without_changing_them() -> None:
    before = _digest(REPO / "sample_docs")
    result = subprocess.run([sys.executable, "-m", "mdsync", "demo"], cwd=REPO, capture_output=True, text=True,
                            timeout=180, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    pages = len(list((REPO / "sample_docs").rglob("*.md")))
    # sample_docs/index.md is the body of the home page (the demo's config says home_page: write).
    assert f"Push: 1 adopted, {pages - 1} created" in out
    assert "Push: nothing to do" in out  # the second push writes nothing
    assert "Pull: 1 pulled" in out and "+Tip from the ops team" in out
    assert "Sync: 1 merged" in out and "+The colleague adds a second note at the end." in out
    assert "+Acme Widgets now ships" in out
    assert "A last sync finds both sides in step: Sync: nothing to do" in out
    assert _digest(REPO / "sample_docs") == before


def test_demo_reports_a_missing_docs_folder_in_one_sentence(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mdsync", "demo", "--docs", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
