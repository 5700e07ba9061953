"""mdsync run as a user pipes it (``mdsync ... | less``, ``> report.txt``): stdout a pipe, not a
terminal, of the width rich and click assume for one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MDSYNC = [sys.executable, "-m", "mdsync"]


def piped(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """mdsync with stdout a pipe of the width rich and click assume for one (80 columns)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MDSYNC_", "COLUMNS", "LINES"))}
    env.update(COLUMNS="80", PYTHONIOENCODING="utf-8")
    return subprocess.run([*MDSYNC, *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", env=env,
                          stdin=subprocess.DEVNULL, timeout=60)
