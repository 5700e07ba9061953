"""`mdsync demo` runs the story against its own sandbox and never touches the repository."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_demo_runs_on_the_sample_docs_without_changing_them() -> None:
    before = _digest(ROOT / "sample_docs")
    result = subprocess.run([sys.executable, "-m", "mdsync", "demo"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    pages = len(list((ROOT / "sample_docs").rglob("*.md")))
    assert "Started a local Confluence sandbox at http://127.0.0.1:" in result.stdout
    assert f"holds {pages} Markdown pages" in result.stdout
    assert "Space DOCS" in result.stdout
    assert _digest(ROOT / "sample_docs") == before


def test_demo_reports_a_missing_docs_folder_in_one_sentence(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mdsync", "demo", "--docs", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
