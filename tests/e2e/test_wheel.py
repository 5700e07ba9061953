"""mdsync as a new user gets it (issue 15, item 1): a wheel built from the source, installed in a
fresh virtualenv, run from an empty folder with no repository around.

Installed alone, the commands that need the sandbox say in one sentence how to add it and the
rest work (init's file explains itself: no pointer to a file the wheel lacks); with the
``[sandbox]`` extra, ``mdsync demo`` tells its whole story on the sample docs the package
carries and ``mdsync sandbox serve`` serves. Dependencies come from the package registry
through a pip cache under .venv/, so a second run downloads nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
from mdsync.sandbox.server import free_port
from tests.support import REPO
from tests.support.background import serving

PIP_CACHE = REPO / ".venv" / "pip-cache"
# What the build reads (pyproject.toml names README.md as the long description).
SOURCES = ("pyproject.toml", "README.md", "mdsync")
INSTALL_TIMEOUT = 600  # seconds: a first run downloads the dependencies on a loaded machine


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--cache-dir", str(PIP_CACHE), "--quiet"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=INSTALL_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr


def build_wheel(work: Path) -> Path:
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, source / name)
    pip("wheel", str(source), "--no-deps", "--wheel-dir", str(work / "dist"))
    wheels = list((work / "dist").glob("mdsync-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def fresh_venv(path: Path) -> Path:
    """A virtualenv of its own (pip comes from the test's interpreter, through --python)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    return path / "bin"


def user_env(bin_dir: Path) -> dict[str, str]:
    """A new user's shell: the venv's commands first, nothing that points Python at the repository."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MDSYNC_", "CONFLUENCE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=str(bin_dir) + os.pathsep + env.get("PATH", ""), COLUMNS="200", NO_COLOR="1")
    return env


def mdsync(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "mdsync"), *args], cwd=cwd, env=user_env(bin_dir), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300)


@pytest.mark.timeout(2 * INSTALL_TIMEOUT + 600)
def test_the_wheel_alone_runs_the_demo_and_the_sandbox(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    bin_dir = fresh_venv(tmp_path / "venv")
    python = str(bin_dir / "python")
    pip("--python", python, "install", str(wheel))
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    where = mdsync(bin_dir, "--version", cwd=empty)
    assert where.returncode == 0, where.stderr
    installed = subprocess.run([python, "-c", "import mdsync; print(mdsync.__file__)"], cwd=empty,
                               env=user_env(bin_dir), capture_output=True, text=True, timeout=60, check=True).stdout
    assert installed.startswith(str(tmp_path / "venv")), installed  # the wheel's copy, not the repository's

    # Without the extra: one sentence naming the install command, exit 2; help and init work.
    for command in (["demo"], ["sandbox", "serve"]):
        result = mdsync(bin_dir, *command, cwd=empty)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert "pip install 'mdsync[sandbox]'" in result.stderr, result.stderr
    listing = mdsync(bin_dir, "--help", cwd=empty)
    assert listing.returncode == 0 and "demo" in listing.stdout, listing.stderr
    project = tmp_path / "project"
    project.mkdir()
    init = mdsync(bin_dir, "init", "--url", "https://a.atlassian.net", "--email", "a@b.test", "--space", "DOCS",
                  "--no-check", cwd=project)
    assert init.returncode == 0, init.stderr
    written = (project / "mdsync.yaml").read_text(encoding="utf-8")
    assert "mdsync.yaml.example" not in written and "# Glob patterns, relative to docs" in written

    # With the extra: the demo on the packaged sample docs, and the sandbox served.
    pip("--python", python, "install", f"{wheel}[sandbox]")
    demo = mdsync(bin_dir, "demo", cwd=empty)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "created" in demo.stdout and "Pull: 1 pulled" in demo.stdout and "Sync: 1 merged" in demo.stdout
    assert "A last sync finds both sides in step: Sync: nothing to do" in demo.stdout
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving([str(bin_dir / "mdsync"), "sandbox", "serve", "--port", str(port)], url, cwd=empty,
                 env=user_env(bin_dir)):
        spaces = httpx.get(f"{url}/wiki/api/v2/spaces", auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=20)
    assert spaces.status_code == 200 and [space["key"] for space in spaces.json()["results"]] == ["DOCS"]
